//! Demo province (filled in below).
