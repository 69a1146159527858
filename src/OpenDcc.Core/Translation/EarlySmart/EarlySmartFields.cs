using System.Globalization;
using System.Text;
using NodaTime;

namespace OpenDcc.Core.Translation.EarlySmart;

/// <summary>
/// The <c>k=v;k=v</c> part of a line. Text values are escaped so that no raw separator or line break survives in
/// them: <c>\</c> → <c>\\</c>, <c>|</c> → <c>\p</c>, <c>;</c> → <c>\s</c>, <c>=</c> → <c>\e</c>, line feed →
/// <c>\n</c>, carriage return → <c>\r</c>. Numbers are invariant decimal, instants Unix seconds (anything finer is
/// dropped, rounding towards the past), durations whole seconds, byte strings upper-case hex, enums fixed words.
/// </summary>
internal sealed class EarlySmartFieldWriter
{
    private readonly StringBuilder text = new();

    public override string ToString() => text.ToString();

    public EarlySmartFieldWriter Raw(string key, string value)
    {
        if (text.Length > 0)
        {
            text.Append(';');
        }
        text.Append(key).Append('=').Append(value);
        return this;
    }

    public EarlySmartFieldWriter Text(string key, string value) => Raw(key, Escape(value));

    public EarlySmartFieldWriter Number(string key, long value) => Raw(key, value.ToString(CultureInfo.InvariantCulture));

    public EarlySmartFieldWriter Instant(string key, Instant value) => Number(key, value.ToUnixTimeSeconds());

    public EarlySmartFieldWriter Seconds(string key, Duration value) => Number(key, value.BclCompatibleTicks / NodaConstants.TicksPerSecond);

    public EarlySmartFieldWriter Hex(string key, ReadOnlySpan<byte> value) => Raw(key, Convert.ToHexString(value));

    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var escaped = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            escaped.Append(c switch
            {
                '\\' => @"\\",
                '|' => @"\p",
                ';' => @"\s",
                '=' => @"\e",
                '\n' => @"\n",
                '\r' => @"\r",
                _ => null,
            } ?? c.ToString());
        }
        return escaped.ToString();
    }
}

/// <summary>Reads <see cref="EarlySmartFieldWriter"/>'s fields, recording the first error instead of throwing.</summary>
internal sealed class EarlySmartFieldReader
{
    private const long MostSeconds = long.MaxValue / NodaConstants.TicksPerSecond;

    private readonly Dictionary<string, string> fields = new(StringComparer.Ordinal);

    private EarlySmartFieldReader()
    {
    }

    public string? Error { get; private set; }

    public static EarlySmartFieldReader Parse(string segment)
    {
        var reader = new EarlySmartFieldReader();
        if (segment.Length == 0)
        {
            return reader;
        }
        foreach (var pair in segment.Split(';'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                reader.Fail($"field '{pair}' is not key=value");
                break;
            }
            var key = pair[..equals];
            if (!reader.fields.TryAdd(key, pair[(equals + 1)..]))
            {
                reader.Fail($"field '{key}' appears twice");
                break;
            }
        }
        return reader;
    }

    public void Fail(string error) => Error ??= error;

    public string Text(string key) => Unescape(key, Required(key));

    public string? OptionalText(string key) => fields.TryGetValue(key, out var raw) ? Unescape(key, raw) : null;

    public long Number(string key)
    {
        var raw = Required(key);
        if (Error is not null)
        {
            return 0;
        }
        if (!long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Fail($"field '{key}' value '{raw}' is not a whole number");
            return 0;
        }
        return value;
    }

    public int Int32(string key)
    {
        var value = Number(key);
        if (value is < int.MinValue or > int.MaxValue)
        {
            Fail($"field '{key}' value {value} is out of range");
            return 0;
        }
        return (int)value;
    }

    public ushort UInt16Hex(string key)
    {
        var raw = Required(key);
        if (Error is not null)
        {
            return 0;
        }
        if (raw.Length != 4 || !ushort.TryParse(raw, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            Fail($"field '{key}' value '{raw}' is not four hex digits");
            return 0;
        }
        return value;
    }

    public Instant Instant(string key)
    {
        var seconds = Number(key);
        if (seconds < NodaTime.Instant.MinValue.ToUnixTimeSeconds() || seconds > NodaTime.Instant.MaxValue.ToUnixTimeSeconds())
        {
            Fail($"field '{key}' value {seconds} is outside the time line");
            return default;
        }
        return NodaTime.Instant.FromUnixTimeSeconds(seconds);
    }

    /// <summary>Whole seconds, as many as a duration holds in 64-bit ticks: what the writer, and a GBCS frame, can carry again.</summary>
    public Duration Seconds(string key)
    {
        var seconds = Number(key);
        if (seconds is < -MostSeconds or > MostSeconds)
        {
            Fail($"field '{key}' value {seconds} seconds is out of range");
            return default;
        }
        return Duration.FromSeconds(seconds);
    }

    public byte[] Hex(string key)
    {
        var raw = Required(key);
        if (Error is not null)
        {
            return [];
        }
        if (raw.Length % 2 != 0 || !raw.All(char.IsAsciiHexDigit))
        {
            Fail($"field '{key}' is not hex");
            return [];
        }
        return Convert.FromHexString(raw);
    }

    public TEnum Word<TEnum>(string key, EarlySmartWords<TEnum> words)
        where TEnum : struct, Enum
    {
        var raw = Required(key);
        if (Error is not null)
        {
            return default;
        }
        if (!words.TryParse(raw, out var value))
        {
            Fail($"field '{key}' value '{raw}' is not one of {words}");
            return default;
        }
        return value;
    }

    /// <summary>The raw value of a field whose syntax the caller parses itself.</summary>
    public string Required(string key)
    {
        if (Error is null && !fields.ContainsKey(key))
        {
            Fail($"field '{key}' is missing");
        }
        return fields.GetValueOrDefault(key, "");
    }

    private string Unescape(string key, string raw)
    {
        if (Error is not null)
        {
            return "";
        }
        var text = new StringBuilder(raw.Length);
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '\\')
            {
                text.Append(raw[i]);
                continue;
            }
            char? c = i + 1 < raw.Length
                ? raw[i + 1] switch
                {
                    '\\' => '\\',
                    'p' => '|',
                    's' => ';',
                    'e' => '=',
                    'n' => '\n',
                    'r' => '\r',
                    _ => null,
                }
                : null;
            if (c is null)
            {
                Fail($"field '{key}' has a bad escape at character {i + 1}");
                return "";
            }
            text.Append(c.Value);
            i++;
        }
        return text.ToString();
    }
}

/// <summary>The fixed words an early-smart line uses for an enum, both ways.</summary>
internal sealed class EarlySmartWords<TEnum>(params (TEnum Value, string Word)[] words)
    where TEnum : struct, Enum
{
    public string this[TEnum value] =>
        words.FirstOrDefault(w => EqualityComparer<TEnum>.Default.Equals(w.Value, value)).Word
        ?? throw new ArgumentOutOfRangeException(nameof(value), value, $"No early-smart word for this {typeof(TEnum).Name}");

    public bool TryParse(string word, out TEnum value)
    {
        foreach (var (candidate, text) in words)
        {
            if (text == word)
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }

    public override string ToString() => string.Join(", ", words.Select(w => w.Word));
}
