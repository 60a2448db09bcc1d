//! Working-day calendar (lịch làm việc): being written.
