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
    let body = if sig.asyncness.is_some() {
        let output = match &sig.output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => quote!(#ty),
        };
        // The annotation fixes the block's output type, so that `?` and
        // `return` inside the body mean what they meant in the function.
        quote! {{
            #timer
            __perf_timer.time(async move {
                let __perf_timer_output: #output = #block;
                __perf_timer_output
            }).await
        }}
    } else {
        quote! {{
            #timer
            let __perf_timer_guard = __perf_timer.start();
            #block
        }}
    };
    Ok(quote! {
        #(#attrs)*
        #vis #sig #body
    })
}
