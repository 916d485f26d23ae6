// `sqlx::migrate!` embeds the migration files at compile time, and Cargo
// does not know about them: without this, a new migration file is left out
// until some source file of this crate changes.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
