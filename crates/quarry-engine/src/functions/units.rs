//! `convert_angle`, `convert_energy`, `convert_force`, `convert_length`, `convert_mass`,
//! `convert_speed`, `convert_temperature`, `convert_volume`: `(value, from, to)` with the unit
//! names of the Kusto reference (case-sensitive, as listed there); an unknown unit gives null.
//! Factors are the SI value of one unit (the definitions UnitsNet, which Kusto uses, applies).

use super::fnargs::{batch_len, str_at, strs};
use super::registry::{Simple, ret};
use super::udf::arg_array;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use std::f64::consts::PI;
use std::sync::Arc;

const FT: f64 = 0.3048;
const INCH: f64 = 0.0254;
const MILE: f64 = 1609.344;
const YARD: f64 = 0.9144;
const LY: f64 = 9.460_730_472_580_8e15;
const PARSEC: f64 = 3.085_677_581_491_367e16;
const US_SURVEY_FT: f64 = 1200.0 / 3937.0;

const ANGLE: &[(&str, f64)] = &[
    ("Radian", 1.0),
    ("Degree", PI / 180.0),
    ("Arcminute", PI / 180.0 / 60.0),
    ("Arcsecond", PI / 180.0 / 3600.0),
    ("Centiradian", 1e-2),
    ("Deciradian", 1e-1),
    ("Milliradian", 1e-3),
    ("Microradian", 1e-6),
    ("Nanoradian", 1e-9),
    ("Millidegree", PI / 180.0 * 1e-3),
    ("Microdegree", PI / 180.0 * 1e-6),
    ("Nanodegree", PI / 180.0 * 1e-9),
    ("Gradian", PI / 200.0),
    ("NatoMil", 2.0 * PI / 6400.0),
    ("Revolution", 2.0 * PI),
];

const ENERGY: &[(&str, f64)] = &[
    ("Joule", 1.0),
    ("Millijoule", 1e-3),
    ("Kilojoule", 1e3),
    ("Megajoule", 1e6),
    ("Gigajoule", 1e9),
    ("BritishThermalUnit", 1_055.055_852_62),
    ("KilobritishThermalUnit", 1_055.055_852_62e3),
    ("MegabritishThermalUnit", 1_055.055_852_62e6),
    ("GigabritishThermalUnit", 1_055.055_852_62e9),
    ("Calorie", 4.184),
    ("Kilocalorie", 4184.0),
    ("Megacalorie", 4.184e6),
    ("ElectronVolt", 1.602_176_565e-19),
    ("KiloelectronVolt", 1.602_176_565e-16),
    ("MegaelectronVolt", 1.602_176_565e-13),
    ("GigaelectronVolt", 1.602_176_565e-10),
    ("TeraelectronVolt", 1.602_176_565e-7),
    ("Erg", 1e-7),
    ("FootPound", 1.355_817_948),
    ("HorsepowerHour", 2.684_519_537_696_172e6),
    ("WattHour", 3600.0),
    ("KilowattHour", 3.6e6),
    ("MegawattHour", 3.6e9),
    ("GigawattHour", 3.6e12),
    ("TerawattHour", 3.6e15),
    ("WattDay", 86400.0),
    ("KilowattDay", 8.64e7),
    ("MegawattDay", 8.64e10),
    ("GigawattDay", 8.64e13),
    ("TerawattDay", 8.64e16),
    ("ThermEc", 1.055_055_852_62e8),
    ("ThermUs", 1.054_804e8),
    ("ThermImperial", 1.055_056e8),
    ("DecathermEc", 1.055_055_852_62e9),
    ("DecathermUs", 1.054_804e9),
    ("DecathermImperial", 1.055_056e9),
];

const FORCE: &[(&str, f64)] = &[
    ("Newton", 1.0),
    ("Decanewton", 10.0),
    ("Kilonewton", 1e3),
    ("Meganewton", 1e6),
    ("Millinewton", 1e-3),
    ("Micronewton", 1e-6),
    ("Dyn", 1e-5),
    ("KilogramForce", 9.806_65),
    ("KiloPond", 9.806_65),
    ("TonneForce", 9806.65),
    ("PoundForce", 4.448_221_615_260_5),
    ("KilopoundForce", 4_448.221_615_260_5),
    ("OunceForce", 0.278_013_850_953_781_2),
    ("Poundal", 0.138_254_954_376),
    ("ShortTonForce", 8_896.443_230_521),
];

const LENGTH: &[(&str, f64)] = &[
    ("Meter", 1.0),
    ("Angstrom", 1e-10),
    ("AstronomicalUnit", 1.495_978_707e11),
    ("Centimeter", 1e-2),
    ("Chain", 20.1168),
    ("DataMile", 1828.8),
    ("Decameter", 10.0),
    ("Decimeter", 0.1),
    ("DtpPica", INCH / 6.0),
    ("DtpPoint", INCH / 72.0),
    ("Fathom", 1.8288),
    ("Foot", FT),
    ("Hand", 0.1016),
    ("Hectometer", 100.0),
    ("Inch", INCH),
    ("KilolightYear", LY * 1e3),
    ("Kilometer", 1e3),
    ("Kiloparsec", PARSEC * 1e3),
    ("LightYear", LY),
    ("MegalightYear", LY * 1e6),
    ("Megaparsec", PARSEC * 1e6),
    ("Microinch", INCH * 1e-6),
    ("Micrometer", 1e-6),
    ("Mil", INCH * 1e-3),
    ("Mile", MILE),
    ("Millimeter", 1e-3),
    ("Nanometer", 1e-9),
    ("NauticalMile", 1852.0),
    ("Parsec", PARSEC),
    ("PrinterPica", INCH / 6.0225),
    ("PrinterPoint", INCH / 72.27),
    ("Shackle", 27.432),
    ("SolarRadius", 6.957_00e8),
    ("Twip", INCH / 1440.0),
    ("UsSurveyFoot", US_SURVEY_FT),
    ("Yard", YARD),
];

const MASS: &[(&str, f64)] = &[
    ("Kilogram", 1.0),
    ("Centigram", 1e-5),
    ("Decagram", 1e-2),
    ("Decigram", 1e-4),
    ("EarthMass", 5.9722e24),
    ("Grain", 6.479_891e-5),
    ("Gram", 1e-3),
    ("Hectogram", 0.1),
    ("Kilopound", 453.592_37),
    ("Kilotonne", 1e6),
    ("LongHundredweight", 50.802_345_44),
    ("LongTon", 1_016.046_908_8),
    ("Megapound", 453_592.37),
    ("Megatonne", 1e9),
    ("Microgram", 1e-9),
    ("Milligram", 1e-6),
    ("Nanogram", 1e-12),
    ("Ounce", 0.028_349_523_125),
    ("Pound", 0.453_592_37),
    ("ShortHundredweight", 45.359_237),
    ("ShortTon", 907.184_74),
    ("Slug", 14.593_902_937_206_4),
    ("SolarMass", 1.988_47e30),
    ("Stone", 6.350_293_18),
    ("Tonne", 1e3),
];

const SPEED: &[(&str, f64)] = &[
    ("MeterPerSecond", 1.0),
    ("CentimeterPerHour", 1e-2 / 3600.0),
    ("CentimeterPerMinute", 1e-2 / 60.0),
    ("CentimeterPerSecond", 1e-2),
    ("DecimeterPerMinute", 0.1 / 60.0),
    ("DecimeterPerSecond", 0.1),
    ("FootPerHour", FT / 3600.0),
    ("FootPerMinute", FT / 60.0),
    ("FootPerSecond", FT),
    ("InchPerHour", INCH / 3600.0),
    ("InchPerMinute", INCH / 60.0),
    ("InchPerSecond", INCH),
    ("KilometerPerHour", 1e3 / 3600.0),
    ("KilometerPerMinute", 1e3 / 60.0),
    ("KilometerPerSecond", 1e3),
    ("Knot", 1852.0 / 3600.0),
    ("MeterPerHour", 1.0 / 3600.0),
    ("MeterPerMinute", 1.0 / 60.0),
    ("MicrometerPerMinute", 1e-6 / 60.0),
    ("MicrometerPerSecond", 1e-6),
    ("MilePerHour", MILE / 3600.0),
    ("MillimeterPerHour", 1e-3 / 3600.0),
    ("MillimeterPerMinute", 1e-3 / 60.0),
    ("MillimeterPerSecond", 1e-3),
    ("NanometerPerMinute", 1e-9 / 60.0),
    ("NanometerPerSecond", 1e-9),
    ("UsSurveyFootPerHour", US_SURVEY_FT / 3600.0),
    ("UsSurveyFootPerMinute", US_SURVEY_FT / 60.0),
    ("UsSurveyFootPerSecond", US_SURVEY_FT),
    ("YardPerHour", YARD / 3600.0),
    ("YardPerMinute", YARD / 60.0),
    ("YardPerSecond", YARD),
];

const US_GALLON: f64 = 0.003_785_411_784;
const IMP_GALLON: f64 = 0.004_546_09;
const CUBIC_FT: f64 = FT * FT * FT;

const VOLUME: &[(&str, f64)] = &[
    ("CubicMeter", 1.0),
    // UnitsNet converts cubic meters to acre-feet by multiplying by 0.000810714.
    ("AcreFoot", 1.0 / 0.000_810_714),
    ("AuTablespoon", 2e-5),
    ("BoardFoot", 0.002_359_737_216),
    ("Centiliter", 1e-5),
    ("CubicCentimeter", 1e-6),
    ("CubicDecimeter", 1e-3),
    ("CubicFoot", CUBIC_FT),
    ("CubicHectometer", 1e6),
    ("CubicInch", INCH * INCH * INCH),
    ("CubicKilometer", 1e9),
    ("CubicMicrometer", 1e-18),
    ("CubicMile", MILE * MILE * MILE),
    ("CubicMillimeter", 1e-9),
    ("CubicYard", YARD * YARD * YARD),
    ("Decaliter", 1e-2),
    ("DecausGallon", US_GALLON * 10.0),
    ("Deciliter", 1e-4),
    ("DeciusGallon", US_GALLON / 10.0),
    ("HectocubicFoot", CUBIC_FT * 100.0),
    ("HectocubicMeter", 100.0),
    ("Hectoliter", 0.1),
    ("HectousGallon", US_GALLON * 100.0),
    ("ImperialBeerBarrel", 0.163_659_24),
    ("ImperialGallon", IMP_GALLON),
    ("ImperialOunce", 2.841_306_25e-5),
    ("ImperialPint", 5.682_612_5e-4),
    ("KilocubicFoot", CUBIC_FT * 1e3),
    ("KilocubicMeter", 1e3),
    ("KiloimperialGallon", IMP_GALLON * 1e3),
    ("Kiloliter", 1.0),
    ("KilousGallon", US_GALLON * 1e3),
    ("Liter", 1e-3),
    ("MegacubicFoot", CUBIC_FT * 1e6),
    ("MegaimperialGallon", IMP_GALLON * 1e6),
    ("Megaliter", 1e3),
    ("MegausGallon", US_GALLON * 1e6),
    ("MetricCup", 2.5e-4),
    ("MetricTeaspoon", 5e-6),
    ("Microliter", 1e-9),
    ("Milliliter", 1e-6),
    ("OilBarrel", 0.158_987_294_928),
    ("UkTablespoon", 1.5e-5),
    ("UsBeerBarrel", 0.117_347_765_304),
    ("UsCustomaryCup", 2.365_882_365e-4),
    ("UsGallon", US_GALLON),
    ("UsLegalCup", 2.4e-4),
    ("UsOunce", 2.957_352_956_25e-5),
    ("UsPint", 4.731_764_73e-4),
    ("UsQuart", 9.463_529_46e-4),
    ("UsTablespoon", 1.478_676_478_125e-5),
    ("UsTeaspoon", 4.928_921_593_75e-6),
];

/// A temperature in `unit` → kelvin.
fn to_kelvin(v: f64, unit: &str) -> Option<f64> {
    Some(match unit {
        "Kelvin" => v,
        "DegreeCelsius" => v + 273.15,
        "MillidegreeCelsius" => v / 1000.0 + 273.15,
        "DegreeFahrenheit" => (v + 459.67) * 5.0 / 9.0,
        "DegreeRankine" => v * 5.0 / 9.0,
        "DegreeDelisle" => 373.15 - v * 2.0 / 3.0,
        "DegreeNewton" => v * 100.0 / 33.0 + 273.15,
        "DegreeReaumur" => v * 5.0 / 4.0 + 273.15,
        "DegreeRoemer" => (v - 7.5) * 40.0 / 21.0 + 273.15,
        "SolarTemperature" => v * 5778.0,
        _ => return None,
    })
}

/// Kelvin → a temperature in `unit`.
fn from_kelvin(k: f64, unit: &str) -> Option<f64> {
    Some(match unit {
        "Kelvin" => k,
        "DegreeCelsius" => k - 273.15,
        "MillidegreeCelsius" => (k - 273.15) * 1000.0,
        "DegreeFahrenheit" => k * 9.0 / 5.0 - 459.67,
        "DegreeRankine" => k * 9.0 / 5.0,
        "DegreeDelisle" => (373.15 - k) * 3.0 / 2.0,
        "DegreeNewton" => (k - 273.15) * 33.0 / 100.0,
        "DegreeReaumur" => (k - 273.15) * 4.0 / 5.0,
        "DegreeRoemer" => (k - 273.15) * 21.0 / 40.0 + 7.5,
        "SolarTemperature" => k / 5778.0,
        _ => return None,
    })
}

fn factor(table: &[(&str, f64)], unit: &str) -> Option<f64> {
    table.iter().find(|(n, _)| *n == unit).map(|(_, f)| *f)
}

fn convert_with(
    args: &[ColumnarValue],
    rows: usize,
    f: impl Fn(f64, &str, &str) -> Option<f64>,
) -> Result<ArrayRef> {
    let n = batch_len(args, rows);
    let v = arg_array(args, 0, n)?;
    let v = datafusion::arrow::compute::cast(&v, &DataType::Float64)?;
    let v = v.as_primitive::<Float64Type>();
    let from = strs(args, 1, n)?;
    let to = strs(args, 2, n)?;
    let out: Float64Array = (0..n)
        .map(|i| {
            if v.is_null(i) {
                return None;
            }
            f(v.value(i), str_at(&from, i), str_at(&to, i))
        })
        .collect();
    Ok(Arc::new(out))
}

fn linear(table: &'static [(&'static str, f64)]) -> impl Fn(f64, &str, &str) -> Option<f64> {
    move |v, from, to| Some(v * factor(table, from)? / factor(table, to)?)
}

macro_rules! linear_kernel {
    ($name:ident, $table:expr) => {
        fn $name(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
            convert_with(args, rows, linear($table))
        }
    };
}

linear_kernel!(convert_angle, ANGLE);
linear_kernel!(convert_energy, ENERGY);
linear_kernel!(convert_force, FORCE);
linear_kernel!(convert_length, LENGTH);
linear_kernel!(convert_mass, MASS);
linear_kernel!(convert_speed, SPEED);
linear_kernel!(convert_volume, VOLUME);

fn convert_temperature(args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    convert_with(args, rows, |v, from, to| {
        from_kelvin(to_kelvin(v, from)?, to)
    })
}

pub const FUNCTIONS: &[Simple] = &[
    Simple {
        name: "convert_angle",
        args: (3, 3),
        ret: ret::real,
        kernel: convert_angle,
    },
    Simple {
        name: "convert_energy",
        args: (3, 3),
        ret: ret::real,
        kernel: convert_energy,
    },
    Simple {
        name: "convert_force",
        args: (3, 3),
        ret: ret::real,
        kernel: convert_force,
    },
    Simple {
        name: "convert_length",
        args: (3, 3),
        ret: ret::real,
        kernel: convert_length,
    },
    Simple {
        name: "convert_mass",
        args: (3, 3),
        ret: ret::real,
        kernel: convert_mass,
    },
    Simple {
        name: "convert_speed",
        args: (3, 3),
        ret: ret::real,
        kernel: convert_speed,
    },
    Simple {
        name: "convert_temperature",
        args: (3, 3),
        ret: ret::real,
        kernel: convert_temperature,
    },
    Simple {
        name: "convert_volume",
        args: (3, 3),
        ret: ret::real,
        kernel: convert_volume,
    },
];
