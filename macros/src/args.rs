//! What a `#[timed…]` attribute says: a timer name, `skip`, `errors = false`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser as _};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Ident, LitStr, Token};

/// Where an attribute stands, which decides what it may say.
#[derive(Clone, Copy)]
pub(crate) enum Place {
    /// On a `fn`, or a method timed on its own.
    Function,
    /// On an `impl` block.
    Impl,
    /// On a method inside a timed `impl` block.
    Method,
}

impl Place {
    fn expected(self) -> &'static str {
        match self {
            Place::Function => {
                "expected `#[timed]`, `#[timed(\"timer name\")]` or `#[timed(errors = false)]` (or both: `#[timed(\"timer name\", errors = false)]`); the name is one string literal"
            }
            Place::Impl => {
                "expected `#[timed]` or `#[timed(errors = false)]` on an `impl`"
            }
            Place::Method => {
                "expected `#[timed]`, `#[timed(\"timer name\")]`, `#[timed(skip)]` or `#[timed(errors = false)]`"
            }
        }
    }
}

/// The arguments of one `#[timed…]` attribute.
#[derive(Default)]
pub(crate) struct Args {
    /// `"timer name"`: the name given.
    pub(crate) name: Option<LitStr>,
    /// `skip`: the method is left untimed.
    pub(crate) skip: bool,
    /// `errors = false`: a `Result`'s `Err` is not counted as an error.
    pub(crate) errors: Option<bool>,
}

enum Arg {
    Name(LitStr),
    Skip(Ident),
    Errors(syn::Expr),
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return input.parse().map(Arg::Name);
        }
        let ident: Ident = input.parse()?;
        if ident == "skip" {
            Ok(Arg::Skip(ident))
        } else if ident == "errors" {
            input.parse::<Token![=]>()?;
            input.parse().map(Arg::Errors)
        } else {
            Err(syn::Error::new(ident.span(), ""))
        }
    }
}

impl Args {
    /// Parses the tokens between the attribute's parentheses, as `place`
    /// allows them.
    pub(crate) fn parse(tokens: TokenStream, place: Place) -> syn::Result<Args> {
        let expected = |span: Span| syn::Error::new(span, place.expected());
        let list = Punctuated::<Arg, Token![,]>::parse_terminated
            .parse2(tokens)
            .map_err(|e| expected(e.span()))?;
        let mut args = Args::default();
        for arg in list {
            match arg {
                Arg::Name(name) => match place {
                    Place::Impl => {
                        return Err(syn::Error::new(
                            name.span(),
                            "`#[timed]` on an `impl` names each method after its type: give a name to a method inside, `#[timed(\"name\")]`",
                        ))
                    }
                    _ if args.name.is_some() => {
                        return Err(syn::Error::new(
                            name.span(),
                            "`#[timed]` takes one timer name, a string literal",
                        ))
                    }
                    _ => args.name = Some(name),
                },
                Arg::Skip(ident) => match place {
                    Place::Method => args.skip = true,
                    _ => {
                        return Err(syn::Error::new(
                            ident.span(),
                            "`#[timed(skip)]` leaves out a method inside a `#[timed]` impl; elsewhere, remove `#[timed]`",
                        ))
                    }
                },
                Arg::Errors(value) => match value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Bool(value),
                        ..
                    }) => args.errors = Some(value.value),
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            "`errors` is `false` (count no `Err` as an error) or `true` (the default)",
                        ))
                    }
                },
            }
        }
        Ok(args)
    }

    /// The arguments of `attr`, a `#[timed…]` attribute on a method inside
    /// a timed `impl`.
    pub(crate) fn of_method(attr: &syn::Attribute) -> syn::Result<Args> {
        match &attr.meta {
            syn::Meta::Path(_) => Ok(Args::default()),
            syn::Meta::List(list) => Args::parse(list.tokens.clone(), Place::Method),
            syn::Meta::NameValue(nv) => Err(syn::Error::new(nv.span(), Place::Method.expected())),
        }
    }
}

/// Whether `attr` is `#[timed…]` or `#[perf_timer::timed…]`.
pub(crate) fn is_timed(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    path.is_ident("timed")
        || (path.segments.len() == 2
            && path.segments[0].ident == "perf_timer"
            && path.segments[1].ident == "timed")
}
