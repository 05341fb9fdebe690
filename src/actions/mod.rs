//! Built-in actions: operations a template cannot express. One file each.

pub mod set_hostname;
