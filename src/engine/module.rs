//! One module, made concrete for a run: its declarations rendered with the inputs and
//! earlier modules' outputs, and typed into steps and checks.

use crate::checks::CheckKind;
use crate::manifest::Module;
use crate::render::{render_in, Ctx};
use crate::steps::StepKind;
use serde_json::{Map, Value};

/// A module's steps and checks for this run (those whose `when` holds).
pub struct Built {
    /// Steps in order.
    pub steps: Vec<StepKind>,
    /// Checks in order.
    pub checks: Vec<CheckKind>,
}

/// The template context: the inputs plus `outputs.<module>` of earlier modules.
pub fn context(inputs: &Value, outputs: &Map<String, Value>) -> Value {
    let mut ctx = inputs.clone();
    if let Value::Object(m) = &mut ctx {
        m.insert("outputs".into(), Value::Object(outputs.clone()));
    }
    ctx
}

/// Render and type a module's steps and checks without blaming inputs (see
/// [`super::build::build`]); the error names the declarations.
pub fn build(m: &Module, ctx: &Value) -> Result<Built, String> {
    let env = super::build::Env {
        ctx,
        schema: None,
        root: None,
    };
    super::build::build(m, &env).map_err(|errs| {
        let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
        all.join("; ")
    })
}

/// A module's outputs, rendered.
pub fn outputs(m: &Module, ctx: &Value) -> Result<Value, String> {
    let mut out = Map::new();
    if m.manifest.outputs.is_empty() {
        return Ok(Value::Object(out));
    }
    let c = Ctx::new(ctx).map_err(|e| format!("{}: {e}", m.manifest_path()))?;
    for (k, t) in &m.manifest.outputs {
        let v = render_in(t, &c).map_err(|e| format!("{}: outputs.{k}: {e}", m.manifest_path()))?;
        out.insert(k.clone(), Value::String(v));
    }
    Ok(Value::Object(out))
}

/// Each module of `selected` with its template context. Outputs are rendered for every
/// module of `all` (the profile's) in order, so a module sees the same outputs of earlier
/// modules whether or not they run this time (`--only`); they depend only on inputs.
pub fn contexts<'a>(
    all: &[Module],
    selected: &'a [Module],
    inputs: &Value,
) -> Result<Vec<(&'a Module, Value)>, String> {
    let mut outs = Map::new();
    let mut res = Vec::new();
    for m in all {
        let ctx = context(inputs, &outs);
        outs.insert(m.name().to_string(), outputs(m, &ctx)?);
        if let Some(sel) = selected.iter().find(|s| s.id == m.id) {
            res.push((sel, ctx));
        }
    }
    Ok(res)
}
