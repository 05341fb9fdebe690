//! One module, made concrete for a run: its declarations rendered with the inputs and
//! earlier modules' outputs, and typed into steps and checks.

use super::build::BuildError;
use crate::checks::Declared;
use crate::manifest::Module;
use crate::render::{render_in, Ctx};
use crate::steps::StepKind;
use serde_json::{Map, Value};

/// A module's steps, checks and DNS records for this run (those whose `when` holds).
pub struct Built {
    /// Steps in order.
    pub steps: Vec<StepKind>,
    /// Checks in order.
    pub checks: Vec<Declared>,
    /// The module's records, typed.
    pub records: Vec<crate::dns::typed::Typed>,
}

/// The template context: the inputs plus `outputs.<module>` of earlier modules.
pub fn context(inputs: &Value, outputs: &Map<String, Value>) -> Value {
    let mut ctx = inputs.clone();
    if let Value::Object(m) = &mut ctx {
        m.insert("outputs".into(), Value::Object(outputs.clone()));
    }
    ctx
}

/// A module's outputs, rendered.
pub fn outputs(m: &Module, ctx: &Value) -> Result<Value, BuildError> {
    let mut out = Map::new();
    if m.manifest.outputs.is_empty() {
        return Ok(Value::Object(out));
    }
    let bad = |at: String, e: crate::render::RenderError| BuildError::Manifest {
        file: m.manifest_path(),
        at,
        reason: e.to_string(),
    };
    let c = Ctx::new(ctx).map_err(|e| bad("outputs".into(), e))?;
    for (k, t) in &m.manifest.outputs {
        let v = render_in(t, &c).map_err(|e| bad(format!("outputs.{k}"), e))?;
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
) -> Result<Vec<(&'a Module, Value)>, BuildError> {
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
