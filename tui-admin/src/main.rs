//! kfood-admin.

fn main() {}
