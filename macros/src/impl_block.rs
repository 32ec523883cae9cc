//! `#[timed]` on an `impl` block: every method timed, each named after its
//! impl (`module::Type::method`, `module::<Type as Trait>::method`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

use crate::args::{is_timed, Args};
use crate::expand::expand;
use crate::name::impl_prefix;

/// Every method of `block` timed; `errors`: the impl's own `errors = …`,
/// which a method's attribute overrides.
pub(crate) fn expand_impl(mut block: syn::ItemImpl, errors: bool) -> syn::Result<TokenStream> {
    let prefix = impl_prefix(&block);
    for item in &mut block.items {
        let syn::ImplItem::Fn(method) = item else {
            continue;
        };
        let mut args = Args::default();
        let mut kept = Vec::new();
        for attr in std::mem::take(&mut method.attrs) {
            if is_timed(&attr) {
                args = Args::of_method(&attr)?;
            } else {
                kept.push(attr);
            }
        }
        method.attrs = kept;
        if args.skip || method.sig.constness.is_some() {
            continue;
        }
        let name = match args.name {
            Some(name) => quote!(#name),
            None => {
                let path = format!("{prefix}::{}", method.sig.ident);
                quote!(::core::concat!(::core::module_path!(), "::", #path))
            }
        };
        let function = ItemFn {
            attrs: std::mem::take(&mut method.attrs),
            vis: method.vis.clone(),
            sig: method.sig.clone(),
            block: Box::new(method.block.clone()),
        };
        let errors = args.errors.unwrap_or(errors);
        *method = syn::parse2(expand(Some(name), errors, function)?)?;
    }
    Ok(quote!(#block))
}
