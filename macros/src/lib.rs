//! The `#[timed]` attribute of `perf-timer`; use it as `perf_timer::timed`.

mod args;
mod expand;
mod impl_block;
mod name;

use proc_macro::TokenStream;
use syn::spanned::Spanned;
use syn::{parse_macro_input, Item};

use args::{Args, Place};

/// Times a function into the global registry: an `async fn` by the poll
/// time of each call's future; a `fn` returning `impl Future` or
/// `Pin<Box<dyn Future …>>` by the poll time of the future it returns (its
/// construction is not timed); any other `fn` by the wall time of each call.
/// The timer is looked up once, on the first call.
///
/// # Names
///
/// | timed | timer name |
/// |---|---|
/// | `fn load` | `module::load` |
/// | `#[timed] impl Store`: `fn get` | `module::Store::get` |
/// | `#[timed] impl Gen<u32> for Store`: `fn get` | `module::<Store as Gen<u32>>::get` |
/// | `#[timed] impl<T> Hello for Box<T>`: `fn hello` | `module::<Box as Hello>::hello` |
/// | a method timed alone, without `#[timed]` on its `impl` | `module::method` |
/// | `#[timed("parse")]` | `parse` |
///
/// `module` is the `module_path!()` where the function stands. On an
/// `impl` block, `#[timed]` times every method in it: an inherent method is
/// named after its type (the type's name, with its concrete type arguments:
/// `Store<u32>`), a trait impl's method after the type and the trait as
/// written (`<Store as Gen<u32>>`, `<super::Store as fmt::Display>`), so
/// that an inherent `get` and `get` of `impl Gen<u32> for Store` and of
/// `impl Gen<u64> for Store` are three timers, and `hello` of
/// `impl Greet for Store` and of `impl Other for Store` two. The impl's
/// generic parameters are left out: an argument list of them alone goes
/// (`Box<T>` reads `Box`), one among concrete arguments reads `_`
/// (`Pair<T, u32>` reads `Pair<_, u32>`); lifetimes are left out.
/// Inside the block, `#[timed("name")]` on a method names that one,
/// `#[timed(skip)]` leaves it untimed, and a `const fn` is left as it is.
///
/// Names that still meet:
/// - two types of one name in one module (types declared inside two
///   function bodies): the module path is the same;
/// - methods timed one by one, without `#[timed]` on their `impl`: an
///   attribute on a method cannot see its impl, so the name is
///   `module::method`, for an inherent method and for a trait impl's alike;
///   two methods of one name in one module then share a timer. Put
///   `#[timed]` on the `impl` to have the type and the trait in the name;
/// - the instances of a generic impl (`impl<T> Hello for Box<T>` with
///   `Box<u8>` and `Box<String>`): one timer, as for a generic `fn`.
///
/// # Errors
///
/// A function returning `Result` (by the last segment of its return type:
/// `Result<T, E>`, `std::result::Result<T, E>`, `io::Result<T>`,
/// `anyhow::Result<T>`), sync or async, or a future of one
/// (`impl Future<Output = Result<…>>`), counts each call that returns `Err`
/// as an [error](https://docs.rs/perf-timer/latest/perf_timer/struct.Stats.html#method.errors),
/// as `.timed_result()` does; the call is still a sample (its time was
/// spent). `#[timed(errors = false)]` (on a function, a method or an `impl`)
/// counts no errors; it is also how to time a function returning a type of
/// one's own named `Result`, and a sync `#[track_caller]` function
/// returning `Result` (counting its errors would run the body in a
/// closure, which loses the caller: a compile error says so).
///
/// A function that returns a stream is timed for the call alone, not for
/// its items: wrap the stream with `TimedStreamExt::timed_items("name")` to
/// time each item as a run.
///
/// ```ignore
/// #[perf_timer::timed]
/// async fn fetch(url: &str) -> Result<String, Error> { ... } // counts Err
///
/// #[perf_timer::timed("parse")]
/// fn parse(body: &str) -> Document { ... }
///
/// #[perf_timer::timed]
/// impl Store {
///     async fn get(&self, key: &str) -> Option<Row> { ... } // my_crate::db::Store::get
///     #[timed(skip)]
///     fn len(&self) -> usize { ... }
/// }
///
/// #[perf_timer::timed]
/// impl Cache<u32> for Store {
///     fn get(&self, key: u32) -> Option<u32> { ... } // my_crate::db::<Store as Cache<u32>>::get
/// }
/// ```
#[proc_macro_attribute]
pub fn timed(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = parse_macro_input!(item as Item);
    let expanded = match item {
        Item::Fn(function) => Args::parse(attr.into(), Place::Function).and_then(|args| {
            let name = args.name.map(|n| quote::quote!(#n));
            expand::expand(name, args.errors.unwrap_or(true), function)
        }),
        Item::Impl(block) => Args::parse(attr.into(), Place::Impl)
            .and_then(|args| impl_block::expand_impl(block, args.errors.unwrap_or(true))),
        other => Err(syn::Error::new(
            other.span(),
            "`#[timed]` applies to functions (`fn` or `async fn`) and `impl` blocks",
        )),
    };
    expanded
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
