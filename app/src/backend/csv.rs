//! Writing the CSV files people open in spreadsheets (the chart, assets and CAF exports):
//! one writer, and the one rule that keeps a typed value from being read as a formula.

use crate::error::AppError;

/// A spreadsheet cell that cannot be read as a formula.
pub fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// A CSV file being written in memory, its header line first.
pub struct Sheet(::csv::Writer<Vec<u8>>);

impl Sheet {
    pub fn new<I, T>(header: I) -> Result<Sheet, AppError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut sheet = Sheet(::csv::Writer::from_writer(Vec::new()));
        sheet.row(header)?;
        Ok(sheet)
    }

    /// A line written as it is: values Wardline itself made.
    pub fn row<I, T>(&mut self, cells: I) -> Result<(), AppError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.0.write_record(cells).map_err(failed)
    }

    /// A line of values people typed, each defused by `cell`.
    pub fn safe_row<I, T>(&mut self, cells: I) -> Result<(), AppError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.row(cells.into_iter().map(|c| cell(c.as_ref())))
    }

    /// The file's text.
    pub fn finish(self) -> Result<String, AppError> {
        let bytes = self
            .0
            .into_inner()
            .map_err(|e| super::errors::internal("writing csv", &e))?;
        String::from_utf8(bytes).map_err(|e| super::errors::internal("csv utf-8", &e))
    }
}

fn failed(e: ::csv::Error) -> AppError {
    super::errors::internal("writing csv", &e)
}

#[cfg(test)]
mod tests {
    use super::{Sheet, cell};

    #[test]
    fn cells_that_look_like_formulas_are_defused() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+44 20"), "'+44 20");
        assert_eq!(cell("Priya Raman"), "Priya Raman");
    }

    #[test]
    fn a_sheet_is_its_header_then_its_lines_quoted_where_needed() {
        let mut sheet = Sheet::new(["name", "note"]).unwrap();
        sheet.row(["=made", "a, b"]).unwrap();
        sheet.safe_row(["=typed", "plain"]).unwrap();
        assert_eq!(
            sheet.finish().unwrap(),
            "name,note\n=made,\"a, b\"\n'=typed,plain\n"
        );
    }
}
