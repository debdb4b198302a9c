//! Real headless Chromium against each example app as a real process: the person's pages
//! of the app clients (the consent page of a native app's sign-in, the device page) and
//! the example single-page app, and a security event signing a browser out.

mod consent;
mod device;
mod security_events;
mod spa;
