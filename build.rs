//! Rebuild when embedded modules or profiles change (include_dir does not track new files).
fn main() {
    println!("cargo:rerun-if-changed=modules");
    println!("cargo:rerun-if-changed=profiles");
}
