//! Test-only: renders any `Serialize` value as flat text (field names and values),
//! so tests can assert what a serialized payload does or does not contain without
//! adding a JSON crate to this crate's dependencies.

use serde::ser::{self, Serialize};
use std::fmt::{self, Display};

#[derive(Debug)]
pub struct Error(String);
impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Error {}
impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

pub fn to_text<T: Serialize + ?Sized>(v: &T) -> String {
    let mut s = Flat(String::new());
    v.serialize(&mut s).map(|_| s.0).unwrap_or_default()
}

pub struct Flat(pub String);

impl Flat {
    fn push(&mut self, s: impl Display) {
        self.0.push_str(&s.to_string());
        self.0.push(' ');
    }
}

type R = Result<(), Error>;

impl ser::Serializer for &mut Flat {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_str(self, v: &str) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        self.push(format!("{v:?}"));
        Ok(())
    }
    fn serialize_none(self) -> R {
        self.push("null");
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> R {
        self.push(v);
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> R {
        self.push(variant);
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        v: &'static str,
        _: usize,
    ) -> Result<Self, Error> {
        self.push(v);
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        v: &'static str,
        _: usize,
    ) -> Result<Self, Error> {
        self.push(v);
        Ok(self)
    }
}

macro_rules! compound {
    ($tr:ident, $m:ident) => {
        impl<'a> ser::$tr for &'a mut Flat {
            type Ok = ();
            type Error = Error;
            fn $m<T: ?Sized + Serialize>(&mut self, v: &T) -> R {
                v.serialize(&mut **self)
            }
            fn end(self) -> R {
                Ok(())
            }
        }
    };
}
compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);

impl ser::SerializeMap for &mut Flat {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, k: &T) -> R {
        k.serialize(&mut **self)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> R {
        v.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Flat {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, k: &'static str, v: &T) -> R {
        self.push(k);
        v.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Flat {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, k: &'static str, v: &T) -> R {
        self.push(k);
        v.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}
