//! Configuration: flags beat environment variables, which beat the config file,
//! which beats the defaults. Every setting is listed in the README.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

pub const DEFAULT_DATA: &str = "./data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Args, Debug, Default)]
pub struct ServeFlags {
    /// Config file (TOML) with any of the settings below.
    #[arg(long, env = "LIENTHONG_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite database and blobs) [default: ./data].
    #[arg(long, env = "LIENTHONG_DATA")]
    pub data: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "LIENTHONG_LISTEN")]
    pub listen: Option<String>,
    /// postgres://… to use PostgreSQL instead of the embedded SQLite database.
    #[arg(long, env = "LIENTHONG_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Load the demo province (only adds it if it is not there yet).
    #[arg(long)]
    pub demo: bool,
    /// Mark cookies Secure (when users reach the server over HTTPS).
    #[arg(long, env = "LIENTHONG_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Largest request body accepted, in bytes [default: 2097152].
    #[arg(long, env = "LIENTHONG_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "LIENTHONG_LOG_FORMAT")]
    pub log_format: Option<String>,
}

/// The config file: the same settings, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data: Option<PathBuf>,
    listen: Option<String>,
    database_url: Option<String>,
    demo: Option<bool>,
    secure_cookies: Option<bool>,
    max_body_bytes: Option<usize>,
    log_format: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data: PathBuf,
    pub listen: String,
    pub database_url: Option<String>,
    pub demo: bool,
    pub web: lienthong_web::WebConfig,
    pub log_format: String,
}

impl Config {
    pub fn resolve(flags: ServeFlags) -> anyhow::Result<Config> {
        let file = match &flags.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("parsing {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let defaults = lienthong_web::WebConfig::default();
        Ok(Config {
            data: flags
                .data
                .or(file.data)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA)),
            listen: flags
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            database_url: flags.database_url.or(file.database_url),
            demo: flags.demo || file.demo.unwrap_or(false),
            web: lienthong_web::WebConfig {
                secure_cookies: flags
                    .secure_cookies
                    .or(file.secure_cookies)
                    .unwrap_or(defaults.secure_cookies),
                max_body_bytes: flags
                    .max_body_bytes
                    .or(file.max_body_bytes)
                    .unwrap_or(defaults.max_body_bytes),
            },
            log_format: flags
                .log_format
                .or(file.log_format)
                .unwrap_or_else(|| "text".to_owned()),
        })
    }
}

pub fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LIENTHONG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beat_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lienthong.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\ndata = \"/srv/lt\"\nmax_body_bytes = 1000\n",
        )
        .unwrap();
        let cfg = Config::resolve(ServeFlags {
            config: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(cfg.listen, "0.0.0.0:9000");
        assert_eq!(cfg.data, PathBuf::from("/srv/lt"));
        assert_eq!(cfg.web.max_body_bytes, 1000);
        assert!(!cfg.demo);
        let cfg = Config::resolve(ServeFlags {
            config: Some(path),
            listen: Some("127.0.0.1:1".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(cfg.listen, "127.0.0.1:1");
        let cfg = Config::resolve(ServeFlags::default()).unwrap();
        assert_eq!(cfg.listen, DEFAULT_LISTEN);
        assert_eq!(cfg.data, PathBuf::from(DEFAULT_DATA));
    }

    #[test]
    fn unknown_settings_in_the_file_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "lisen = \"typo\"\n").unwrap();
        assert!(Config::resolve(ServeFlags {
            config: Some(path),
            ..Default::default()
        })
        .is_err());
    }
}
