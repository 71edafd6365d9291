//! The WebSocket protocol at `/event/realtime`.
