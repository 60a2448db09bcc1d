//! Files: being written.
