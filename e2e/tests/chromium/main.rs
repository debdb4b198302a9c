//! Real headless Chromium against each example app as a real process: the person's pages
//! of the app clients (the consent page of a native app's sign-in, the device page) and
//! the example single-page app.

mod consent;
mod device;
mod spa;
