//! Fast in-memory patient search.
