//! The `appsync-local` binary: runs the local AppSync Events server.

fn main() {
    unimplemented!("issue 3: appsync-local binary")
}
