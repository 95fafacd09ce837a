//! kfood-customer.

fn main() {}
