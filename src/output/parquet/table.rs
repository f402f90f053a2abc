//! A Parquet file written a page and a row group at a time from typed column buffers.
//!
//! Each column keeps the values of the current page; every [`PAGE_ROWS`] rows they are encoded
//! ([`super::encode`]), compressed with zstd and appended to the column's chunk, and every
//! [`GROUP_ROWS`] rows the chunks become a row group. So memory holds one page of values and
//! one row group of compressed pages per column, however long the run. The `parquet` crate
//! writes what is not values: page headers, each chunk's metadata, the footer and the schema.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use parquet::basic::{Compression, Encoding, LogicalType, Repetition, Type as PhysicalType, ZstdLevel};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::errors::ParquetError;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::properties::WriterProperties;
use parquet::file::statistics::Statistics;
use parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use parquet::schema::types::{ColumnDescPtr, Type};

use super::encode;

/// Rows per data page: about a megabyte of the widest column before compression.
pub(crate) const PAGE_ROWS: usize = 1 << 17;
/// Rows per row group: what a reader takes as one unit of work, and what the writer holds.
pub(crate) const GROUP_ROWS: usize = 1 << 20;

/// zstd's fastest standard level: the outputs are written once and read many times, but a
/// run must not wait for them (level 3 halves the speed for 5 % less on our data).
const ZSTD_LEVEL: i32 = 1;
const ZSTD_HASH_LOG: u32 = 12;

/// The crate's error as an I/O error, the file system's own when it is one (a full disk must
/// say so).
fn io_error(e: ParquetError) -> io::Error {
    match e {
        ParquetError::External(e) => match e.downcast::<io::Error>() {
            Ok(e) => *e,
            Err(e) => io::Error::other(e),
        },
        e => io::Error::other(e),
    }
}

/// One column of a table's schema.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// A float (seconds): BYTE_STREAM_SPLIT.
    Double,
    /// An integer: DELTA_BINARY_PACKED.
    Int64,
    /// A string from a small vocabulary: RLE_DICTIONARY.
    Dict,
    /// Any other string: DELTA_BYTE_ARRAY.
    Str,
}

/// The schema of a table: `(name, kind, nullable)` per column.
pub(crate) fn schema(name: &str, columns: &[(&str, Kind, bool)]) -> Arc<Type> {
    let fields = columns
        .iter()
        .map(|&(column, kind, nullable)| {
            let (physical, logical) = match kind {
                Kind::Double => (PhysicalType::DOUBLE, None),
                Kind::Int64 => (PhysicalType::INT64, None),
                Kind::Dict | Kind::Str => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
            };
            let repetition = if nullable { Repetition::OPTIONAL } else { Repetition::REQUIRED };
            Arc::new(
                Type::primitive_type_builder(column, physical)
                    .with_repetition(repetition)
                    .with_logical_type(logical)
                    .build()
                    .expect("a flat primitive column is a valid schema"),
            )
        })
        .collect();
    Arc::new(Type::group_type_builder(name).with_fields(fields).build().expect("a flat schema is valid"))
}

/// Compression of pages, with its buffers kept from one page to the next.
pub(crate) struct Compressor {
    zstd: zstd::bulk::Compressor<'static>,
    /// A page's encoded values, before compression.
    pub(crate) page: Vec<u8>,
}

impl Compressor {
    pub(crate) fn new() -> io::Result<Self> {
        let mut zstd = zstd::bulk::Compressor::new(ZSTD_LEVEL)?;
        // A 16 KiB match table instead of level 1's 64 KiB (a page is at most a few MB): it stays
        // in cache beside the model's tables, which made compressing the ids 20 % faster for 1 %
        // more bytes (docs/speed.md).
        zstd.set_parameter(zstd::zstd_safe::CParameter::HashLog(ZSTD_HASH_LOG))?;
        Ok(Compressor { zstd, page: Vec::new() })
    }

    /// Compresses `self.page` and empties it: the compressed bytes and the size before.
    fn take_page(&mut self) -> io::Result<(Bytes, usize)> {
        let uncompressed = self.page.len();
        let compressed = self.zstd.compress(&self.page)?;
        self.page.clear();
        Ok((Bytes::from(compressed), uncompressed))
    }
}

/// The data pages of one column chunk, as they are written.
#[derive(Default)]
struct Pages {
    bytes: Vec<u8>,
    uncompressed: u64,
    rows: u64,
}

impl Pages {
    /// Compresses the page in `z.page` (its levels and values) and appends it.
    fn push(&mut self, z: &mut Compressor, rows: usize, encoding: Encoding) -> io::Result<()> {
        let (buf, uncompressed) = z.take_page()?;
        let page = Page::DataPage {
            buf,
            num_values: rows as u32,
            encoding,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        };
        self.write(CompressedPage::new(page, uncompressed))?;
        self.rows += rows as u64;
        Ok(())
    }

    fn write(&mut self, page: CompressedPage) -> io::Result<()> {
        // A page header holds its sizes as i32: refuse rather than write a file no reader reads
        // (a page is 131,072 rows, so this takes rows of 16 KB on average).
        if page.uncompressed_size() > i32::MAX as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a Parquet page would hold more than 2 GiB, more than its header can say",
            ));
        }
        let mut sink = TrackedWrite::new(std::mem::take(&mut self.bytes));
        let spec = SerializedPageWriter::new(&mut sink).write_page(page).map_err(io_error)?;
        self.uncompressed += spec.uncompressed_size as u64;
        self.bytes = sink.into_inner().map_err(io_error)?;
        Ok(())
    }

    /// The chunk: `dictionary` (a page already written) first, then the data pages, with the
    /// metadata that describes it; the pages are emptied for the next chunk.
    fn finish(
        &mut self,
        descr: ColumnDescPtr,
        dictionary: Option<Pages>,
        encodings: Vec<Encoding>,
        statistics: Option<Statistics>,
    ) -> io::Result<(Bytes, ColumnCloseResult)> {
        let data = std::mem::take(self);
        let (bytes, dictionary_len, dictionary_uncompressed) = match dictionary {
            Some(d) => {
                let len = d.bytes.len();
                let mut bytes = d.bytes;
                bytes.extend_from_slice(&data.bytes);
                (bytes, Some(len), d.uncompressed)
            }
            None => (data.bytes, None, 0),
        };
        let mut metadata = ColumnChunkMetaData::builder(descr)
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL).map_err(io_error)?))
            .set_encodings(encodings)
            .set_num_values(data.rows as i64)
            .set_total_compressed_size(bytes.len() as i64)
            .set_total_uncompressed_size((data.uncompressed + dictionary_uncompressed) as i64)
            .set_data_page_offset(dictionary_len.unwrap_or(0) as i64)
            .set_dictionary_page_offset(dictionary_len.map(|_| 0));
        if let Some(statistics) = statistics {
            metadata = metadata.set_statistics(statistics);
        }
        let close = ColumnCloseResult {
            bytes_written: bytes.len() as u64,
            rows_written: data.rows,
            metadata: metadata.build().map_err(io_error)?,
            bloom_filter: None,
            column_index: None,
            offset_index: None,
        };
        Ok((Bytes::from(bytes), close))
    }
}

/// Definition levels of a nullable column's page: 1 for a value, 0 for a null.
#[derive(Default)]
struct Levels {
    levels: Vec<u32>,
    nulls: u64,
}

impl Levels {
    #[inline]
    fn push(&mut self, present: bool) {
        self.levels.push(u32::from(present));
        self.nulls += u64::from(!present);
    }

    /// Version 1 data pages start with the levels, RLE, behind their length in 4 bytes.
    fn encode(&mut self, out: &mut Vec<u8>) {
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        encode::rle_hybrid(&self.levels, 1, out);
        let len = (out.len() - at - 4) as u32;
        out[at..at + 4].copy_from_slice(&len.to_le_bytes());
        self.levels.clear();
    }
}

/// What every column does at the end of a page and of a row group.
pub(crate) trait Column {
    /// Encodes and compresses the rows given since the last page.
    fn end_page(&mut self, z: &mut Compressor, rows: usize) -> io::Result<()>;
    /// The column chunk of the row group, ready to append to the file.
    fn end_chunk(&mut self, descr: ColumnDescPtr, z: &mut Compressor) -> io::Result<(Bytes, ColumnCloseResult)>;
}

/// Seconds: doubles, BYTE_STREAM_SPLIT, with their minimum and maximum per chunk.
pub(crate) struct DoubleColumn {
    values: Vec<f64>,
    levels: Option<Levels>,
    pages: Pages,
    min: f64,
    max: f64,
}

impl DoubleColumn {
    pub(crate) fn new(nullable: bool) -> Self {
        DoubleColumn {
            values: Vec::with_capacity(PAGE_ROWS),
            levels: nullable.then(Levels::default),
            pages: Pages::default(),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, value: f64) {
        self.values.push(value);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if let Some(levels) = &mut self.levels {
            levels.push(true);
        }
    }

    #[inline]
    pub(crate) fn push_option(&mut self, value: Option<f64>) {
        match value {
            Some(v) => self.push(v),
            None => self.levels.as_mut().expect("only a nullable column holds nulls").push(false),
        }
    }
}

impl Column for DoubleColumn {
    fn end_page(&mut self, z: &mut Compressor, rows: usize) -> io::Result<()> {
        if let Some(levels) = &mut self.levels {
            levels.encode(&mut z.page);
        }
        encode::byte_stream_split(&self.values, &mut z.page);
        self.values.clear();
        self.pages.push(z, rows, Encoding::BYTE_STREAM_SPLIT)
    }

    fn end_chunk(&mut self, descr: ColumnDescPtr, _: &mut Compressor) -> io::Result<(Bytes, ColumnCloseResult)> {
        let nulls = self.levels.as_mut().map_or(0, |l| std::mem::take(&mut l.nulls));
        let (min, max) = (self.min <= self.max).then_some((self.min, self.max)).unzip();
        (self.min, self.max) = (f64::INFINITY, f64::NEG_INFINITY);
        let statistics = Statistics::double(min, max, None, Some(nulls), false);
        self.pages.finish(descr, None, vec![Encoding::BYTE_STREAM_SPLIT, Encoding::RLE], Some(statistics))
    }
}

/// Counts and indices: 64-bit integers, DELTA_BINARY_PACKED (they move by small steps: an
/// index by one, a count by a few), with their minimum and maximum per chunk.
pub(crate) struct Int64Column {
    values: Vec<i64>,
    pages: Pages,
    min: i64,
    max: i64,
}

impl Int64Column {
    pub(crate) fn new() -> Self {
        Int64Column { values: Vec::with_capacity(PAGE_ROWS), pages: Pages::default(), min: i64::MAX, max: i64::MIN }
    }

    #[inline]
    pub(crate) fn push(&mut self, value: i64) {
        self.values.push(value);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }
}

impl Column for Int64Column {
    fn end_page(&mut self, z: &mut Compressor, rows: usize) -> io::Result<()> {
        encode::delta_binary_packed(&self.values, &mut z.page);
        self.values.clear();
        self.pages.push(z, rows, Encoding::DELTA_BINARY_PACKED)
    }

    fn end_chunk(&mut self, descr: ColumnDescPtr, _: &mut Compressor) -> io::Result<(Bytes, ColumnCloseResult)> {
        let (min, max) = (self.min <= self.max).then_some((self.min, self.max)).unzip();
        (self.min, self.max) = (i64::MAX, i64::MIN);
        let statistics = Statistics::int64(min, max, None, Some(0), false);
        self.pages.finish(descr, None, vec![Encoding::DELTA_BINARY_PACKED, Encoding::RLE], Some(statistics))
    }
}

/// A string from a vocabulary known in advance (states, causes, job ids...), pushed as its
/// index in the vocabulary: no string is hashed or copied per row. Each chunk's dictionary
/// holds the names its rows use, in the order they first appear, each name once.
pub(crate) struct DictColumn {
    vocabulary: Arc<[Box<str>]>,
    /// Per vocabulary entry, the first entry with the same name. Two entries may share a name
    /// (`RUNNING` is a state of instances and of CVMs; tasks of many jobs share theirs), and the
    /// dictionary holds it once; worked out once here, so a chunk's dictionary is built in time
    /// linear in its names (a scenario may have 100,000 jobs).
    first_with_name: Vec<u32>,
    /// Per vocabulary entry, its code in the current chunk's dictionary plus one (0: unused).
    code_of: Vec<u32>,
    /// The current chunk's dictionary: vocabulary entries, by code.
    dictionary: Vec<u32>,
    /// Every entry with a code in the current chunk.
    coded: Vec<u32>,
    codes: Vec<u32>,
    levels: Option<Levels>,
    pages: Pages,
}

impl DictColumn {
    pub(crate) fn new(vocabulary: Arc<[Box<str>]>, nullable: bool) -> Self {
        let mut first: HashMap<&str, u32> = HashMap::with_capacity(vocabulary.len());
        let first_with_name =
            (0..vocabulary.len() as u32).map(|e| *first.entry(&vocabulary[e as usize]).or_insert(e)).collect();
        DictColumn {
            code_of: vec![0; vocabulary.len()],
            first_with_name,
            vocabulary,
            dictionary: Vec::new(),
            coded: Vec::new(),
            codes: Vec::with_capacity(PAGE_ROWS),
            levels: nullable.then(Levels::default),
            pages: Pages::default(),
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, entry: usize) {
        let code = match self.code_of[entry] {
            0 => self.add_to_dictionary(entry),
            known => known - 1,
        };
        self.codes.push(code);
        if let Some(levels) = &mut self.levels {
            levels.push(true);
        }
    }

    #[inline]
    pub(crate) fn push_option(&mut self, entry: Option<usize>) {
        match entry {
            Some(e) => self.push(e),
            None => self.levels.as_mut().expect("only a nullable column holds nulls").push(false),
        }
    }

    #[cold]
    fn add_to_dictionary(&mut self, entry: usize) -> u32 {
        let first = self.first_with_name[entry] as usize;
        let code = match self.code_of[first] {
            0 => {
                self.dictionary.push(first as u32);
                self.code_of[first] = self.dictionary.len() as u32;
                self.coded.push(first as u32);
                self.dictionary.len() as u32 - 1
            }
            known => known - 1,
        };
        if first != entry {
            self.code_of[entry] = code + 1;
            self.coded.push(entry as u32);
        }
        code
    }
}

impl Column for DictColumn {
    fn end_page(&mut self, z: &mut Compressor, rows: usize) -> io::Result<()> {
        if let Some(levels) = &mut self.levels {
            levels.encode(&mut z.page);
        }
        let width = encode::bit_width(self.dictionary.len().saturating_sub(1) as u64);
        z.page.push(width as u8);
        encode::rle_hybrid(&self.codes, width, &mut z.page);
        self.codes.clear();
        self.pages.push(z, rows, Encoding::RLE_DICTIONARY)
    }

    fn end_chunk(&mut self, descr: ColumnDescPtr, z: &mut Compressor) -> io::Result<(Bytes, ColumnCloseResult)> {
        let names = self.dictionary.iter().map(|&e| self.vocabulary[e as usize].as_bytes());
        encode::plain_byte_arrays(names, &mut z.page);
        let (buf, uncompressed) = z.take_page()?;
        let page = Page::DictionaryPage {
            buf,
            num_values: self.dictionary.len() as u32,
            encoding: Encoding::PLAIN,
            is_sorted: false,
        };
        let mut dictionary = Pages::default();
        dictionary.write(CompressedPage::new(page, uncompressed))?;
        self.dictionary.clear();
        for e in self.coded.drain(..) {
            self.code_of[e as usize] = 0;
        }
        let nulls = self.levels.as_mut().map_or(0, |l| std::mem::take(&mut l.nulls));
        let statistics = Statistics::byte_array(None, None, None, Some(nulls), false);
        let encodings = vec![Encoding::PLAIN, Encoding::RLE, Encoding::RLE_DICTIONARY];
        self.pages.finish(descr, Some(dictionary), encodings, Some(statistics))
    }
}

/// Any other string (ids): DELTA_BYTE_ARRAY.
pub(crate) struct StrColumn {
    values: encode::DeltaByteArray,
    levels: Option<Levels>,
    pages: Pages,
}

impl StrColumn {
    pub(crate) fn new(nullable: bool) -> Self {
        StrColumn { values: Default::default(), levels: nullable.then(Levels::default), pages: Pages::default() }
    }

    /// A value written by `write` straight into the column's buffer.
    #[inline]
    pub(crate) fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.values.push_with(write);
        if let Some(levels) = &mut self.levels {
            levels.push(true);
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, value: &[u8]) {
        self.push_with(|bytes| encode::append(bytes, value));
    }

    pub(crate) fn push_null(&mut self) {
        self.levels.as_mut().expect("only a nullable column holds nulls").push(false);
    }
}

impl Column for StrColumn {
    fn end_page(&mut self, z: &mut Compressor, rows: usize) -> io::Result<()> {
        if let Some(levels) = &mut self.levels {
            levels.encode(&mut z.page);
        }
        self.values.finish_page(&mut z.page);
        self.pages.push(z, rows, Encoding::DELTA_BYTE_ARRAY)
    }

    fn end_chunk(&mut self, descr: ColumnDescPtr, _: &mut Compressor) -> io::Result<(Bytes, ColumnCloseResult)> {
        let nulls = self.levels.as_mut().map_or(0, |l| std::mem::take(&mut l.nulls));
        let statistics = Statistics::byte_array(None, None, None, Some(nulls), false);
        self.pages.finish(descr, None, vec![Encoding::DELTA_BYTE_ARRAY, Encoding::RLE], Some(statistics))
    }
}

/// A table's columns, in schema order.
pub(crate) trait Columns {
    fn each(&mut self) -> Vec<&mut dyn Column>;
}

/// A table being written: its file and its columns. After each row pushed to every column,
/// [`Table::row_done`]; at the end, [`Table::finish`].
pub(crate) struct Table<C> {
    file: ParquetFile,
    pub(crate) columns: C,
}

impl<C: Columns> Table<C> {
    pub(crate) fn create(path: &Path, schema: Arc<Type>, columns: C) -> io::Result<Self> {
        Ok(Table { file: ParquetFile::create(path, schema)?, columns })
    }

    /// Smaller pages and row groups, for tests that cross their boundaries.
    #[cfg(test)]
    pub(crate) fn with_sizes(mut self, page_rows: usize, group_rows: usize) -> Self {
        self.file = self.file.with_sizes(page_rows, group_rows);
        self
    }

    #[inline]
    pub(crate) fn row_done(&mut self) -> io::Result<()> {
        if self.file.row_done() { self.file.end_page(&mut self.columns.each()) } else { Ok(()) }
    }

    /// `rows` rows were pushed to every column at once: they make a page.
    pub(crate) fn page_done(&mut self, rows: usize) -> io::Result<()> {
        self.file.rows_in_page += rows;
        self.file.end_page(&mut self.columns.each())
    }

    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.file.finish(&mut self.columns.each())
    }
}

/// A Parquet file being written: pages and row groups of the columns it is handed.
struct ParquetFile {
    writer: SerializedFileWriter<BufWriter<File>>,
    columns: Vec<ColumnDescPtr>,
    z: Compressor,
    page_rows: usize,
    group_rows: usize,
    rows_in_page: usize,
    rows_in_group: usize,
}

impl ParquetFile {
    fn create(path: &Path, schema: Arc<Type>) -> io::Result<Self> {
        let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let properties = WriterProperties::builder().set_offset_index_disabled(true).build();
        let writer = SerializedFileWriter::new(file, schema, Arc::new(properties)).map_err(io_error)?;
        Ok(ParquetFile {
            columns: writer.schema_descr().columns().to_vec(),
            writer,
            z: Compressor::new()?,
            page_rows: PAGE_ROWS,
            group_rows: GROUP_ROWS,
            rows_in_page: 0,
            rows_in_group: 0,
        })
    }

    /// One more row was pushed to every column: whether a page is full.
    #[inline]
    fn row_done(&mut self) -> bool {
        self.rows_in_page += 1;
        self.rows_in_page == self.page_rows
    }

    #[cfg(test)]
    fn with_sizes(mut self, page_rows: usize, group_rows: usize) -> Self {
        (self.page_rows, self.group_rows) = (page_rows, group_rows);
        self
    }

    /// Ends the page (and the row group when it is full).
    fn end_page(&mut self, columns: &mut [&mut dyn Column]) -> io::Result<()> {
        if self.rows_in_page == 0 {
            return Ok(());
        }
        for column in columns.iter_mut() {
            column.end_page(&mut self.z, self.rows_in_page)?;
        }
        self.rows_in_group += self.rows_in_page;
        self.rows_in_page = 0;
        if self.rows_in_group >= self.group_rows { self.end_group(columns) } else { Ok(()) }
    }

    fn end_group(&mut self, columns: &mut [&mut dyn Column]) -> io::Result<()> {
        let mut group = self.writer.next_row_group().map_err(io_error)?;
        for (i, column) in columns.iter_mut().enumerate() {
            let (bytes, close) = column.end_chunk(self.columns[i].clone(), &mut self.z)?;
            group.append_column(&bytes, close).map_err(io_error)?;
        }
        group.close().map_err(io_error)?;
        self.rows_in_group = 0;
        Ok(())
    }

    /// Writes what is left and the footer.
    fn finish(mut self, columns: &mut [&mut dyn Column]) -> io::Result<()> {
        self.end_page(columns)?;
        if self.rows_in_group > 0 {
            self.end_group(columns)?;
        }
        let file = self.writer.into_inner().map_err(io_error)?;
        file.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    }
}
