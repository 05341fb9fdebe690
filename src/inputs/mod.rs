//! Typed inputs: the schema modules declare, the value checks, and resolution of the
//! config file over profile defaults over host facts into one validated context.

pub mod kinds;
mod nested;
pub mod pwhash;
pub mod resolve;
pub mod schema;
pub mod spf;
pub mod text;

pub use resolve::{resolve, InstanceLayer, Resolved, Sources};
pub use schema::{InputDecl, InputKind};
