//! Publishing to AppSync Events: the [`Publisher`] boundary and the pure steps around it
//! (batch → build → sign → send → classify).
