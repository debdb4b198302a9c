//! The command-line example (`idme-example-cli`) end to end, as a process: against
//! oidc-provider as a public native client, against the built-in emulator, in headless
//! Chromium, its loopback listener, its token file, and its app-client commands.

mod basic;
mod chromium;
mod device;
mod emulator;
mod listener;
#[cfg(unix)]
mod token_file;
