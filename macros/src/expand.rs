//! One timed function: the timer, looked up once, and the body timed by
//! its polls (an `async fn`, a `fn` returning a future) or its wall time.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType, Type};

/// `function`, timed into the timer `name` (its module path and name if
/// `None`); `errors`: whether a `Result`'s `Err` counts as an error.
pub(crate) fn expand(
    name: Option<TokenStream>,
    errors: bool,
    function: ItemFn,
) -> syn::Result<TokenStream> {
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
    // Never run: tells type inference the body's output type, so that `?`
    // and `return` in the body mean what they meant in the function
    // (`impl Trait` erased to `_`, since a `let` cannot name it).
    let typed_output = |output: &ReturnType| {
        let output = match output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => erase_impl_trait(ty),
        };
        quote! {
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
        }
    };
    // `Err` counts as an error, as with `.timed_result()`. Through a
    // function whose bound says so, called with the return type's span, so
    // that a type of one's own named `Result` is pointed at.
    let classify = |result: Option<&Type>, timed: TokenStream| match result.filter(|_| errors) {
        Some(ty) => {
            let output = erase_impl_trait(ty);
            quote_spanned! {ty.span()=>
                {
                    fn __perf_timer_count_errors<O, F: ::core::future::Future<Output = O>>(
                        timed: ::perf_timer::Timed<F>,
                    ) -> ::perf_timer::Timed<F, ::perf_timer::ErrOutput>
                    where
                        ::perf_timer::ErrOutput: ::perf_timer::Classify<O>,
                    {
                        timed.classify()
                    }
                    __perf_timer_count_errors::<#output, _>(#timed)
                }
            }
        }
        None => timed,
    };
    let body = if sig.asyncness.is_some() {
        let typed = typed_output(&sig.output);
        let timed = classify(
            result_type(&sig.output),
            quote! {
                __perf_timer.time(async move {
                    #typed
                    #(#stmts)*
                })
            },
        );
        quote! {{
            #timer
            #timed.await
        }}
    } else if let Some((kind, output)) = returned_future(&sig.output) {
        // The future is what does the work: its polls are the runs. Its
        // construction (the body up to it) is not timed.
        let timed = classify(
            output.filter(|ty| is_result(ty)),
            quote!(__perf_timer.time(__perf_timer_future)),
        );
        let wrap = match kind {
            Returned::ImplFuture => timed,
            Returned::BoxedFuture => quote!(::std::boxed::Box::pin(#timed)),
        };
        quote! {{
            #timer
            let __perf_timer_future = { #(#stmts)* };
            #wrap
        }}
    } else if let Some(ty) = result_type(&sig.output).filter(|_| errors) {
        // A closure cannot be `#[track_caller]` (not on stable Rust): the
        // function's callers would be lost to `Location::caller()` and to
        // its panics' messages. Said, rather than counting no errors.
        if let Some(attr) = attrs.iter().find(|a| a.path().is_ident("track_caller")) {
            return Err(syn::Error::new_spanned(
                attr,
                "`#[timed]` sees whether a `Result` is `Err` by running the body in a closure, \
                 which would hide this function's caller from `Location::caller()` and its \
                 panics: write `#[timed(errors = false)]` to time it without counting errors",
            ));
        }
        // The body in a closure called at once, so that its value is seen
        // whichever way it leaves (`return`, `?`, its end). Called as an
        // `FnOnce`, so that it may hand back what it borrows from the
        // arguments it took over (`Ok(self)` of a `&mut self`).
        let typed = typed_output(&sig.output);
        let output = erase_impl_trait(ty);
        let is_error = quote_spanned! {ty.span()=>
            {
                fn __perf_timer_is_error<T>(output: &T) -> bool
                where
                    ::perf_timer::ErrOutput: ::perf_timer::Classify<T>,
                {
                    <::perf_timer::ErrOutput as ::perf_timer::Classify<T>>::is_error(output)
                }
                __perf_timer_is_error::<#output>(&__perf_timer_output)
            }
        };
        quote! {{
            #timer
            #[inline(always)]
            fn __perf_timer_once<R>(body: impl ::core::ops::FnOnce() -> R) -> R {
                body()
            }
            let __perf_timer_guard = __perf_timer.start();
            let __perf_timer_output = __perf_timer_once(move || {
                #typed
                #(#stmts)*
            });
            if #is_error {
                __perf_timer_guard.stop_as_error();
            }
            __perf_timer_output
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

/// The return type, if it is a `Result`.
fn result_type(output: &ReturnType) -> Option<&Type> {
    match output {
        ReturnType::Type(_, ty) if is_result(ty) => Some(ty),
        _ => None,
    }
}

/// Whether `ty` is a `Result` by its last path segment: `Result<T, E>`,
/// `std::result::Result<T, E>`, `io::Result<T>`, `anyhow::Result<T>`.
fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => {
            p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Result")
        }
        Type::Group(g) => is_result(&g.elem),
        Type::Paren(p) => is_result(&p.elem),
        _ => false,
    }
}

/// How a plain `fn` hands back a future.
enum Returned {
    /// `impl Future<Output = …>` (any bounds with a `Future` among them).
    ImplFuture,
    /// `Pin<Box<dyn Future<Output = …> …>>`.
    BoxedFuture,
}

/// Whether `output` is a future a plain `fn` returns, how, and its
/// `Output` type where written.
fn returned_future(output: &ReturnType) -> Option<(Returned, Option<&Type>)> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    type Bounds = syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>;
    /// `Some(output)` if a bound is `Future`, `output` its `Output = …`.
    fn future(bounds: &Bounds) -> Option<Option<&Type>> {
        bounds.iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(t) => {
                let last = t.path.segments.last().filter(|s| s.ident == "Future")?;
                Some(future_output(&last.arguments))
            }
            _ => None,
        })
    }
    match &**ty {
        syn::Type::ImplTrait(t) => future(&t.bounds).map(|out| (Returned::ImplFuture, out)),
        syn::Type::Path(p) => {
            // Pin<Box<dyn Future…>>
            let pin = p.path.segments.last().filter(|s| s.ident == "Pin")?;
            let inner = single_type_argument(&pin.arguments)?;
            let syn::Type::Path(boxed) = inner else {
                return None;
            };
            let boxed = boxed.path.segments.last().filter(|s| s.ident == "Box")?;
            match single_type_argument(&boxed.arguments)? {
                syn::Type::TraitObject(t) => {
                    future(&t.bounds).map(|out| (Returned::BoxedFuture, out))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The `T` of `Future<Output = T>`.
fn future_output(arguments: &syn::PathArguments) -> Option<&Type> {
    let syn::PathArguments::AngleBracketed(args) = arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
        _ => None,
    })
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
fn erase_impl_trait(ty: &syn::Type) -> TokenStream {
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
