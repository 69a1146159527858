using NodaTime;
using NodaTime.Text;

namespace OpenDcc.Core.Duis;

/// <summary>
/// A date-time in a DUIS request (xs:dateTime): in UTC with a 'Z' (the templates write two fraction digits) or with
/// an offset (+01:00), zero to nine fraction digits. A time with no zone (01:30 happens twice on the day the clocks go
/// back), a date alone, a time alone or a culture's date is none, and neither is a time whose offset takes it outside
/// the years an <see cref="Instant"/> holds.
/// </summary>
public static class DuisDateTime
{
    public static bool TryParse(string text, out Instant instant)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (InstantPattern.ExtendedIso.Parse(text) is { Success: true } utc)
        {
            instant = utc.Value;
            return true;
        }
        if (OffsetDateTimePattern.ExtendedIso.Parse(text) is { Success: true } offset)
        {
            try
            {
                instant = offset.Value.ToInstant();
                return true;
            }
            catch (OverflowException)
            {
                // 9999-12-31T23:59:59-01:00: past the last instant.
            }
        }
        instant = default;
        return false;
    }
}
