//! The `#[timed]` attribute of `perf-timer`; use it as `perf_timer::timed`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{parse_macro_input, Item, ItemFn, LitStr, ReturnType};

/// Times a function into the global registry: an `async fn` by the poll
/// time of each call's future; a `fn` returning `impl Future` or
/// `Pin<Box<dyn Future …>>` by the poll time of the future it returns (its
/// construction is not timed); any other `fn` by the wall time of each call.
///
/// `#[timed]` names the timer after the function's path
/// (`module::function`); `#[timed("name")]` names it yourself. The timer is
/// looked up once, on the first call.
///
/// On an `impl` block, `#[timed]` times every method in it, each named
/// `module::Type::method` (generic parameters left out), so that methods of
/// two types in one module never share a timer; `#[timed("name")]` on a
/// method inside names that one, `#[timed(skip)]` leaves it untimed, and a
/// `const fn` is left as it is. On a single method without the block, the
/// name is `module::method`: put `#[timed]` on the `impl` to have the type.
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
///
/// #[perf_timer::timed]
/// impl Store {
///     async fn get(&self, key: &str) -> Option<Row> { ... } // my_crate::db::Store::get
///     #[timed(skip)]
///     fn len(&self) -> usize { ... }
/// }
/// ```
#[proc_macro_attribute]
pub fn timed(attr: TokenStream, item: TokenStream) -> TokenStream {
    let name = match parse_name(attr.into()) {
        Ok(name) => name,
        Err(e) => return e.to_compile_error().into(),
    };
    let item = parse_macro_input!(item as Item);
    match item {
        Item::Fn(function) => {
            let name = name.map(|n| quote!(#n));
            expand(name, function)
                .unwrap_or_else(syn::Error::into_compile_error)
                .into()
        }
        Item::Impl(block) => match name {
            Some(name) => syn::Error::new(
                name.span(),
                "`#[timed]` on an `impl` names each method after its type: give a name to a method inside, `#[timed(\"name\")]`",
            )
            .into_compile_error()
            .into(),
            None => expand_impl(block)
                .unwrap_or_else(syn::Error::into_compile_error)
                .into(),
        },
        other => syn::Error::new(
            other.span(),
            "`#[timed]` applies to functions (`fn` or `async fn`) and `impl` blocks",
        )
        .into_compile_error()
        .into(),
    }
}

/// What a `#[timed…]` attribute on a method inside a timed `impl` says.
enum MethodAttr {
    /// `#[timed]`: as if absent.
    Default,
    /// `#[timed("name")]`.
    Named(LitStr),
    /// `#[timed(skip)]`.
    Skip,
}

/// Whether `attr` is `#[timed…]` or `#[perf_timer::timed…]`.
fn is_timed(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    path.is_ident("timed")
        || (path.segments.len() == 2
            && path.segments[0].ident == "perf_timer"
            && path.segments[1].ident == "timed")
}

fn method_attr(attr: &syn::Attribute) -> syn::Result<MethodAttr> {
    match &attr.meta {
        syn::Meta::Path(_) => Ok(MethodAttr::Default),
        syn::Meta::List(list) => {
            if let Ok(ident) = syn::parse2::<syn::Ident>(list.tokens.clone()) {
                if ident == "skip" {
                    return Ok(MethodAttr::Skip);
                }
            }
            syn::parse2::<LitStr>(list.tokens.clone())
                .map(MethodAttr::Named)
                .map_err(|_| {
                    syn::Error::new(
                        list.span(),
                        "expected `#[timed]`, `#[timed(\"timer name\")]` or `#[timed(skip)]`",
                    )
                })
        }
        syn::Meta::NameValue(nv) => Err(syn::Error::new(
            nv.span(),
            "expected `#[timed]`, `#[timed(\"timer name\")]` or `#[timed(skip)]`",
        )),
    }
}

/// Every method of `block` timed, each named `module::Type::method`.
fn expand_impl(mut block: syn::ItemImpl) -> syn::Result<TokenStream2> {
    let type_name = match &*block.self_ty {
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .ok_or_else(|| syn::Error::new(path.span(), "`#[timed]` needs a named type"))?,
        other => {
            return Err(syn::Error::new(
                other.span(),
                "`#[timed]` on an `impl` needs a named type (`impl Store`)",
            ))
        }
    };
    for item in &mut block.items {
        let syn::ImplItem::Fn(method) = item else {
            continue;
        };
        let mut chosen = MethodAttr::Default;
        let mut kept = Vec::new();
        for attr in std::mem::take(&mut method.attrs) {
            if is_timed(&attr) {
                chosen = method_attr(&attr)?;
            } else {
                kept.push(attr);
            }
        }
        method.attrs = kept;
        if matches!(chosen, MethodAttr::Skip) || method.sig.constness.is_some() {
            continue;
        }
        let ident = &method.sig.ident;
        let name = match chosen {
            MethodAttr::Named(name) => quote!(#name),
            _ => {
                let path = format!("{type_name}::{ident}");
                quote!(::core::concat!(::core::module_path!(), "::", #path))
            }
        };
        let function = ItemFn {
            attrs: std::mem::take(&mut method.attrs),
            vis: method.vis.clone(),
            sig: method.sig.clone(),
            block: Box::new(method.block.clone()),
        };
        let expanded: syn::ImplItemFn = syn::parse2(expand(Some(name), function)?)?;
        *method = expanded;
    }
    Ok(quote!(#block))
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

fn expand(name: Option<TokenStream2>, function: ItemFn) -> syn::Result<TokenStream2> {
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
        Some(name) => name,
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
    } else if let Some(kind) = returned_future(&sig.output) {
        // The future is what does the work: its polls are the runs. Its
        // construction (the body up to it) is not timed.
        let wrap = match kind {
            Returned::ImplFuture => quote!(__perf_timer.time(__perf_timer_future)),
            Returned::BoxedFuture => {
                quote!(::std::boxed::Box::pin(
                    __perf_timer.time(__perf_timer_future)
                ))
            }
        };
        quote! {{
            #timer
            let __perf_timer_future = { #(#stmts)* };
            #wrap
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

/// How a plain `fn` hands back a future.
enum Returned {
    /// `impl Future<Output = …>` (any bounds with a `Future` among them).
    ImplFuture,
    /// `Pin<Box<dyn Future<Output = …> …>>`.
    BoxedFuture,
}

/// Whether `output` is a future a plain `fn` returns, and how.
fn returned_future(output: &ReturnType) -> Option<Returned> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let is_future = |bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>| {
        bounds.iter().any(|b| {
            matches!(b, syn::TypeParamBound::Trait(t)
                if t.path.segments.last().is_some_and(|s| s.ident == "Future"))
        })
    };
    match &**ty {
        syn::Type::ImplTrait(t) if is_future(&t.bounds) => Some(Returned::ImplFuture),
        syn::Type::Path(p) => {
            // Pin<Box<dyn Future…>>
            let pin = p.path.segments.last().filter(|s| s.ident == "Pin")?;
            let inner = single_type_argument(&pin.arguments)?;
            let syn::Type::Path(boxed) = inner else {
                return None;
            };
            let boxed = boxed.path.segments.last().filter(|s| s.ident == "Box")?;
            match single_type_argument(&boxed.arguments)? {
                syn::Type::TraitObject(t) if is_future(&t.bounds) => Some(Returned::BoxedFuture),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The `T` of `<T>`.
fn single_type_argument(arguments: &syn::PathArguments) -> Option<&syn::Type> {
    let syn::PathArguments::AngleBracketed(args) = arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(ty) => Some(ty),
        _ => None,
    }
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
