//! How a method's `impl` reads in its timer name: `Type` for an inherent
//! impl, `<Type as Trait>` for a trait impl, types as written, without the
//! impl's generic parameters.

use std::collections::HashSet;

use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type, TypeParamBound};

/// What goes between the module path and `::method` in the name of a
/// method of `block`: `Store`, `Store<u32>`, `<Store as Gen<u32>>`,
/// `<Box as Hello>`.
pub(crate) fn impl_prefix(block: &syn::ItemImpl) -> String {
    let render = Render::new(&block.generics);
    match &block.trait_ {
        // The type's own name: the module path is in front of it already.
        None => match &*block.self_ty {
            Type::Path(path) if path.qself.is_none() => {
                let mut out = String::new();
                if let Some(last) = path.path.segments.last() {
                    render.segment(last, &mut out);
                }
                out
            }
            other => format!("<{}>", render.ty(other)),
        },
        Some((_, path, _)) => {
            let mut out = format!("<{} as ", render.ty(&block.self_ty));
            render.path(path, &mut out);
            out.push('>');
            out
        }
    }
}

/// Writes types as a user reads them: `Gen<u32>`, `&[u8]`, `dyn Fn(u8) -> u8`;
/// lifetimes left out; an argument list of the impl's generic parameters
/// alone left out (`Box<T>` reads `Box`), and a parameter among concrete
/// arguments read as `_` (`Pair<T, u32>` reads `Pair<_, u32>`).
struct Render {
    /// The impl's type and const parameters.
    params: HashSet<String>,
}

impl Render {
    fn new(generics: &syn::Generics) -> Self {
        let params = generics
            .params
            .iter()
            .filter_map(|param| match param {
                syn::GenericParam::Type(t) => Some(t.ident.to_string()),
                syn::GenericParam::Const(c) => Some(c.ident.to_string()),
                syn::GenericParam::Lifetime(_) => None,
            })
            .collect();
        Render { params }
    }

    fn ty(&self, ty: &Type) -> String {
        let mut out = String::new();
        self.write(ty, &mut out);
        out
    }

    /// Whether `ty` is one of the impl's generic parameters, alone.
    fn is_param(&self, ty: &Type) -> bool {
        match ty {
            Type::Path(p) if p.qself.is_none() => self.is_param_path(&p.path),
            Type::Group(g) => self.is_param(&g.elem),
            _ => false,
        }
    }

    fn is_param_path(&self, path: &syn::Path) -> bool {
        path.get_ident()
            .is_some_and(|ident| self.params.contains(&ident.to_string()))
    }

    fn write(&self, ty: &Type, out: &mut String) {
        if self.is_param(ty) {
            out.push('_');
            return;
        }
        match ty {
            Type::Path(p) => match &p.qself {
                None => self.path(&p.path, out),
                Some(qself) => {
                    // `<T as Trait>::Assoc`: the first `position` segments
                    // are the trait's.
                    out.push('<');
                    self.write(&qself.ty, out);
                    let segments: Vec<_> = p.path.segments.iter().collect();
                    let (trait_part, rest) = segments.split_at(qself.position.min(segments.len()));
                    if !trait_part.is_empty() {
                        out.push_str(" as ");
                        if p.path.leading_colon.is_some() {
                            out.push_str("::");
                        }
                        self.segments(trait_part, out);
                    }
                    out.push('>');
                    for segment in rest {
                        out.push_str("::");
                        self.segment(segment, out);
                    }
                }
            },
            Type::Reference(r) => {
                out.push('&');
                if r.mutability.is_some() {
                    out.push_str("mut ");
                }
                self.write(&r.elem, out);
            }
            Type::Ptr(p) => {
                out.push_str(if p.mutability.is_some() {
                    "*mut "
                } else {
                    "*const "
                });
                self.write(&p.elem, out);
            }
            Type::Slice(s) => {
                out.push('[');
                self.write(&s.elem, out);
                out.push(']');
            }
            Type::Array(a) => {
                out.push('[');
                self.write(&a.elem, out);
                out.push_str("; ");
                match &a.len {
                    syn::Expr::Path(len)
                        if len.qself.is_none() && self.is_param_path(&len.path) =>
                    {
                        out.push('_');
                    }
                    len => out.push_str(&tidy(len)),
                }
                out.push(']');
            }
            Type::Tuple(t) => {
                out.push('(');
                self.list(t.elems.iter(), out);
                if t.elems.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Type::Paren(p) => {
                out.push('(');
                self.write(&p.elem, out);
                out.push(')');
            }
            Type::Group(g) => self.write(&g.elem, out),
            Type::TraitObject(t) => {
                out.push_str("dyn ");
                let mut first = true;
                for bound in &t.bounds {
                    let TypeParamBound::Trait(bound) = bound else {
                        continue; // lifetimes left out
                    };
                    if !first {
                        out.push_str(" + ");
                    }
                    first = false;
                    if matches!(bound.modifier, syn::TraitBoundModifier::Maybe(_)) {
                        out.push('?');
                    }
                    self.path(&bound.path, out);
                }
            }
            Type::BareFn(f) => {
                if f.unsafety.is_some() {
                    out.push_str("unsafe ");
                }
                if let Some(abi) = &f.abi {
                    out.push_str(&tidy(abi));
                    out.push(' ');
                }
                out.push_str("fn(");
                self.list(f.inputs.iter().map(|arg| &arg.ty), out);
                out.push(')');
                if let syn::ReturnType::Type(_, ty) = &f.output {
                    out.push_str(" -> ");
                    self.write(ty, out);
                }
            }
            Type::Never(_) => out.push('!'),
            Type::Infer(_) => out.push('_'),
            other => out.push_str(&tidy(other)),
        }
    }

    fn list<'a>(&self, types: impl Iterator<Item = &'a Type>, out: &mut String) {
        for (i, ty) in types.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write(ty, out);
        }
    }

    fn path(&self, path: &syn::Path, out: &mut String) {
        if path.leading_colon.is_some() {
            out.push_str("::");
        }
        let segments: Vec<_> = path.segments.iter().collect();
        self.segments(&segments, out);
    }

    fn segments(&self, segments: &[&syn::PathSegment], out: &mut String) {
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                out.push_str("::");
            }
            self.segment(segment, out);
        }
    }

    fn segment(&self, segment: &syn::PathSegment, out: &mut String) {
        out.push_str(&segment.ident.to_string());
        match &segment.arguments {
            PathArguments::None => {}
            PathArguments::AngleBracketed(args) => {
                let args: Vec<_> = (args.args.iter())
                    .filter(|arg| !matches!(arg, GenericArgument::Lifetime(_)))
                    .collect();
                let all_params = args
                    .iter()
                    .all(|arg| matches!(arg, GenericArgument::Type(ty) if self.is_param(ty)));
                if all_params {
                    return; // `Box<T>` reads `Box`
                }
                out.push('<');
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match arg {
                        GenericArgument::Type(ty) => self.write(ty, out),
                        GenericArgument::AssocType(assoc) => {
                            out.push_str(&assoc.ident.to_string());
                            out.push_str(" = ");
                            self.write(&assoc.ty, out);
                        }
                        other => out.push_str(&tidy(other)),
                    }
                }
                out.push('>');
            }
            PathArguments::Parenthesized(args) => {
                out.push('(');
                self.list(args.inputs.iter(), out);
                out.push(')');
                if let syn::ReturnType::Type(_, ty) = &args.output {
                    out.push_str(" -> ");
                    self.write(ty, out);
                }
            }
        }
    }
}

/// Tokens as a user writes them, for what `Render` does not take apart
/// (array lengths, const arguments, macros): without the spaces
/// that printing tokens puts around `<`, `::`, `,` and brackets.
fn tidy(tokens: &impl ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    let text = text.replace(" -> ", "\u{0}");
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let before = out.chars().last();
            let after = chars.peek().copied();
            let glued_before = matches!(before, Some('<' | '(' | '[' | '&' | ':' | '{'));
            let glued_after = matches!(after, Some('<' | '>' | ')' | ']' | ',' | ';' | ':' | '}'));
            if glued_before || glued_after {
                continue;
            }
        }
        out.push(c);
    }
    out.replace('\u{0}', " -> ")
}

#[cfg(test)]
mod tests {
    use super::impl_prefix;

    fn prefix(header: &str) -> String {
        let block: syn::ItemImpl = syn::parse_str(&format!("{header} {{}}")).unwrap();
        impl_prefix(&block)
    }

    #[test]
    fn inherent_impls_read_as_the_type() {
        assert_eq!(prefix("impl Store"), "Store");
        assert_eq!(prefix("impl<T: Clone> Generic<T>"), "Generic");
        assert_eq!(prefix("impl Generic<u32>"), "Generic<u32>");
        assert_eq!(prefix("impl super::db::Store"), "Store");
        assert_eq!(prefix("impl dyn Shape"), "<dyn Shape>");
    }

    #[test]
    fn trait_impls_keep_concrete_arguments_and_leave_out_parameters() {
        assert_eq!(prefix("impl Greet for Store"), "<Store as Greet>");
        assert_eq!(prefix("impl Gen<u32> for Store"), "<Store as Gen<u32>>");
        assert_eq!(
            prefix("impl Gen<Vec<std::string::String>> for Store"),
            "<Store as Gen<Vec<std::string::String>>>"
        );
        assert_eq!(prefix("impl<T> Hello for Box<T>"), "<Box as Hello>");
        assert_eq!(
            prefix("impl<K, V> Hello for HashMap<K, V>"),
            "<HashMap as Hello>"
        );
        assert_eq!(
            prefix("impl<T> Gen<T> for Pair<T, u32>"),
            "<Pair<_, u32> as Gen>"
        );
        assert_eq!(
            prefix("impl<'a> Hello for &'a mut [u8]"),
            "<&mut [u8] as Hello>"
        );
        assert_eq!(prefix("impl<T> Hello for T"), "<_ as Hello>");
        assert_eq!(
            prefix("impl<const N: usize> Hello for [u8; N]"),
            "<[u8; _] as Hello>"
        );
        assert_eq!(prefix("impl Hello for [u8; 4]"), "<[u8; 4] as Hello>");
        assert_eq!(
            prefix("impl Hello for (u8, String)"),
            "<(u8, String) as Hello>"
        );
        assert_eq!(prefix("impl Hello for (u8,)"), "<(u8,) as Hello>");
        assert_eq!(
            prefix("impl fmt::Display for dyn Shape + Send + 'static"),
            "<dyn Shape + Send as fmt::Display>"
        );
        assert_eq!(
            prefix("impl<F: Fn(u8) -> u8> Hello for Wrap<F, fn(u8) -> u8>"),
            "<Wrap<_, fn(u8) -> u8> as Hello>"
        );
        assert_eq!(
            prefix("impl Hello for Box<dyn Iterator<Item = u8>>"),
            "<Box<dyn Iterator<Item = u8>> as Hello>"
        );
        assert_eq!(
            prefix("impl Hello for <Store as Gen<u8>>::Out"),
            "<<Store as Gen<u8>>::Out as Hello>"
        );
    }
}
