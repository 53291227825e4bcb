//! Time as mfaexec shows and compares it: Unix seconds, RFC 3339 in UTC (the form of
//! `AWS_CREDENTIAL_EXPIRATION` and credential_process), and a short local time for people.

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// RFC 3339 in UTC, the form of `AWS_CREDENTIAL_EXPIRATION` and credential_process.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `21:48`, or `Sun 09:48` when not today, in the local time zone.
pub fn local_time(unix: i64) -> String {
    let zone = jiff::tz::TimeZone::system();
    let (Ok(then), Ok(now)) = (
        jiff::Timestamp::from_second(unix),
        jiff::Timestamp::from_second(now()),
    ) else {
        return rfc3339(unix);
    };
    let (then, now) = (then.to_zoned(zone.clone()), now.to_zoned(zone));
    if then.date() == now.date() {
        then.strftime("%H:%M").to_string()
    } else {
        then.strftime("%a %H:%M").to_string()
    }
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_900_000_000), "2030-03-17T17:46:40Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
