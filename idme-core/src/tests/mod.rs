//! Unit tests that cross layers (a session with the flow that made it, with the engine
//! that serves it): here, above everything, so that no module imports a higher one for
//! its tests. Nothing imports this module.

mod session_binding;
mod session_races;
