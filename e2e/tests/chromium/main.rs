//! The person's pages of the app clients in real headless Chromium, against each example
//! app as a real process: the consent page of a native app's sign-in, and the device page.

mod consent;
mod device;
