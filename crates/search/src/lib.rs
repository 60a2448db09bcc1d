//! Search: being written.
