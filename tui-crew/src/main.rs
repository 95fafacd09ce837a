//! kfood-crew.

fn main() {}
