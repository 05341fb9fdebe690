//! `write_records`: leave the module's records where a person finds them, as a zone
//! fragment and a table under `/var/log/firstboot/dns/` (`<module>.zone`, `<module>.txt`).
//! These are reports in firstboot's own log directory: written when they differ, never
//! backed up or rolled back. The module's records are filled in by the catalog.

use crate::backup::Backup;
use crate::dns::typed::{compute_typed, Typed};
use crate::dns::{count, format, DName, RECORDS_DIR};
use crate::steps::templated::Templated;
use crate::steps::{managed, Change, Planned, RunState, Step, StepCx, StepError};
use serde::Deserialize;

/// Write the zone fragment and the table of the module's records.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteRecords {
    /// The domain the table's names are relative to (typed when built).
    pub origin: Templated<DName>,
    /// The module's records, typed when the module is built (not written in manifests).
    #[serde(skip)]
    pub records: Vec<Typed>,
}

struct Files {
    zone_path: String,
    zone: String,
    table_path: String,
    table: String,
    count: usize,
}

fn invalid(e: impl ToString) -> StepError {
    StepError::Invalid(e.to_string())
}

impl WriteRecords {
    fn files(&self, cx: &StepCx) -> Result<Files, StepError> {
        let origin = self.origin.get()?.clone();
        let records = compute_typed(&self.records, &cx.host.root).map_err(invalid)?;
        Ok(Files {
            zone_path: format!("{RECORDS_DIR}/{}.zone", cx.module_id),
            zone: format::zone(cx.module_id, &records),
            table_path: format!("{RECORDS_DIR}/{}.txt", cx.module_id),
            table: format::table(cx.module_id, &origin, &records),
            count: records.len(),
        })
    }
}

impl Step for WriteRecords {
    fn target(&self) -> String {
        format!("action write_records ({RECORDS_DIR})")
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        let f = self.files(cx)?;
        let root = &cx.host.root;
        let old_zone = root.read(&f.zone_path)?;
        let old_table = root.read(&f.table_path)?;
        if old_zone.as_deref() == Some(f.zone.as_bytes())
            && old_table.as_deref() == Some(f.table.as_bytes())
        {
            return Ok(Planned::new(
                self.target(),
                Change::None,
                format!(
                    "{} and .txt up to date ({})",
                    f.zone_path,
                    count(f.count, "record")
                ),
            ));
        }
        let diff = managed::diff(
            cx,
            &f.zone_path,
            old_zone.as_deref(),
            f.zone.as_bytes(),
            false,
        );
        let (change, verb) = match old_zone {
            None => (Change::Create { diff }, "write"),
            Some(_) => (Change::Update { diff }, "update"),
        };
        Ok(Planned::new(
            self.target(),
            change,
            format!(
                "{verb} {} and .txt ({})",
                f.zone_path,
                count(f.count, "record")
            ),
        ))
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        let p = self.plan(cx, run)?;
        if p.change.is_change() {
            let f = self.files(cx)?;
            let root = &cx.host.root;
            // Like any file: backed up first, so a rollback takes the records back too.
            backup.create_parents(&f.zone_path, 0o755, None)?;
            for (path, data) in [(&f.zone_path, &f.zone), (&f.table_path, &f.table)] {
                backup.record_file(path)?;
                root.write_atomic(path, data.as_bytes(), 0o644, None)?;
                backup.note_written(path, &crate::digest::sha256_hex(data.as_bytes()))?;
            }
        }
        Ok(p)
    }
}
