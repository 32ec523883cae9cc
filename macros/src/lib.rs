//! The `#[timed]` attribute of `perf-timer`; use it as `perf_timer::timed`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{parse_macro_input, Item, ItemFn, LitStr, ReturnType};

/// Times a function into the global registry: an `async fn` by the poll
/// time of each call's future, a plain `fn` by the wall time of each call.
///
/// `#[timed]` names the timer after the function's path
/// (`module::function`); `#[timed("name")]` names it yourself. The timer is
/// looked up once, on the first call.
///
/// A function that returns a stream is timed for the call alone, not for
/// its items: wrap the stream with `TimedStreamExt::timed_items("name")` to
/// time each item as a run.
///
/// ```ignore
/// #[perf_timer::timed]
/// async fn fetch(url: &str) -> Result<String, Error> { ... }
///
/// #[perf_timer::timed("parse")]
/// fn parse(body: &str) -> Document { ... }
/// ```
#[proc_macro_attribute]
pub fn timed(attr: TokenStream, item: TokenStream) -> TokenStream {
    let name = match parse_name(attr.into()) {
        Ok(name) => name,
        Err(e) => return e.to_compile_error().into(),
    };
    let item = parse_macro_input!(item as Item);
    match item {
        Item::Fn(function) => expand(name, function)
            .unwrap_or_else(syn::Error::into_compile_error)
            .into(),
        other => syn::Error::new(
            other.span(),
            "`#[timed]` applies to functions (`fn` or `async fn`)",
        )
        .into_compile_error()
        .into(),
    }
}

/// The timer name given, if any: nothing, or one string literal.
fn parse_name(attr: TokenStream2) -> syn::Result<Option<LitStr>> {
    if attr.is_empty() {
        return Ok(None);
    }
    syn::parse2::<LitStr>(attr.clone()).map(Some).map_err(|_| {
        syn::Error::new(
            attr.span(),
            "expected `#[timed]` or `#[timed(\"timer name\")]`: the name is one string literal",
        )
    })
}

fn expand(name: Option<LitStr>, function: ItemFn) -> syn::Result<TokenStream2> {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    if let Some(constness) = sig.constness {
        return Err(syn::Error::new(
            constness.span(),
            "`#[timed]` cannot time a `const fn`: reading a clock is not const",
        ));
    }
    let ident = &sig.ident;
    let name = match name {
        Some(name) => quote!(#name),
        None => quote!(::core::concat!(
            ::core::module_path!(),
            "::",
            ::core::stringify!(#ident)
        )),
    };
    let timer = quote_spanned! {sig.span()=>
        static __PERF_TIMER: ::std::sync::OnceLock<::perf_timer::Timer> = ::std::sync::OnceLock::new();
        let __perf_timer = __PERF_TIMER.get_or_init(|| ::perf_timer::Timer::new(#name));
    };
    // The body's statements go in as they are, not as a nested block: a
    // block whose only content is an expression (`{ 7 }`) would warn
    // "unnecessary braces" in the user's crate.
    let stmts = &block.stmts;
    let body = if sig.asyncness.is_some() {
        // Never run: tells type inference the body's output type, so that
        // `?` and `return` in the body mean what they meant in the function
        // (`impl Trait` erased to `_`, since a `let` cannot name it).
        let output = match &sig.output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => erase_impl_trait(ty),
        };
        quote! {{
            #timer
            __perf_timer.time(async move {
                #[allow(
                    unreachable_code,
                    clippy::diverging_sub_expression,
                    clippy::let_unit_value,
                    clippy::needless_return
                )]
                if false {
                    let __perf_timer_output: #output = loop {};
                    return __perf_timer_output;
                }
                #(#stmts)*
            }).await
        }}
    } else {
        quote! {{
            #timer
            let __perf_timer_guard = __perf_timer.start();
            #(#stmts)*
        }}
    };
    // Inner attributes of the body (`#![allow(..)]`) stay inside it.
    let (inner, outer): (Vec<_>, Vec<_>) =
        (attrs.into_iter()).partition(|attr| matches!(attr.style, syn::AttrStyle::Inner(_)));
    Ok(quote! {
        #(#outer)*
        #vis #sig {
            #(#inner)*
            #body
        }
    })
}

/// `ty` with every `impl Trait` in it replaced by `_`.
fn erase_impl_trait(ty: &syn::Type) -> TokenStream2 {
    struct Erase;
    impl syn::visit_mut::VisitMut for Erase {
        fn visit_type_mut(&mut self, ty: &mut syn::Type) {
            if let syn::Type::ImplTrait(t) = ty {
                *ty = syn::Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](t.impl_token.span),
                });
                return;
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
    let mut ty = ty.clone();
    syn::visit_mut::VisitMut::visit_type_mut(&mut Erase, &mut ty);
    quote!(#ty)
}
