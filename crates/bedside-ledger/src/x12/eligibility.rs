//! 270 eligibility requests and 271 responses (005010X279A1).
