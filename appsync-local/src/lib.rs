//! appsync-local: a local AWS AppSync Events server — HTTP publish and the WebSocket real-time
//! protocol on one port — for tests, demos and front-end development without an AWS account.

pub mod sigv4;
