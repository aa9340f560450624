fn main() {
    println!("modgate");
}
