using nietras.SeparatedValues;

namespace OpenDcc.Core;

/// <summary>
/// The records of a CSV file an operator gives OpenDcc (RFC 4180: a field in double quotes may hold commas and
/// doubled quotes), white space around each field trimmed, blank lines skipped, each record with its line.
/// </summary>
public static class CsvRecords
{
    /// <summary>
    /// Sep's refusal of a record over its limit (16 MiB), which no file OpenDcc imports has (a binary file, say), as a
    /// fault naming the line.
    /// </summary>
    private static FormatException TooLong(int line, NotSupportedException fault) =>
        new($"line {line}: a record longer than 16 MiB, which no CSV file OpenDcc imports holds (is this the file meant?)", fault);

    /// <exception cref="FormatException">
    /// a double quote is left open (the record's quotes do not pair), or a quoted field holds a line break: nothing
    /// OpenDcc imports holds one, so either way a quote went astray and would take the lines after it into one field
    /// (the file is refused whole, not just that record), or a record is longer than 16 MiB (not a CSV file); names the line.
    /// </exception>
    public static IEnumerable<(int Line, string[] Fields)> Read(TextReader text)
    {
        ArgumentNullException.ThrowIfNull(text);
        SepReader opened;
        try
        {
            opened = Sep.New(',').Reader(o => o with { HasHeader = false, Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true }).From(text);
        }
        catch (NotSupportedException e)
        {
            throw TooLong(1, e);
        }
        using var reader = opened;
        var first = true;
        var lastLine = 0;
        while (true)
        {
            try
            {
                if (!reader.MoveNext())
                {
                    break;
                }
            }
            catch (NotSupportedException e)
            {
                throw TooLong(lastLine + 1, e);
            }
            var row = reader.Current;
            // Sep 0.17.1 numbers the first row's line 2, the rows after it rightly.
            var line = first ? 1 : row.LineNumberFrom;
            first = false;
            lastLine = row.LineNumberToExcl - 1;
            // Quotes come in pairs in a record (each field's opening and closing one, and doubled ones inside): an odd
            // count is a quote left open, which took the rest of the file into one field.
            if (row.Span.Count('"') % 2 != 0)
            {
                throw new FormatException($"line {line}: a double quote is left open (it runs to the end of the file)");
            }
            var fields = new string[row.ColCount];
            for (var i = 0; i < fields.Length; i++)
            {
                var field = row[i].Span;
                if (field.IndexOfAny('\r', '\n') >= 0)
                {
                    throw new FormatException($"line {line}: a quoted field runs on to the next line (a double quote left open?)");
                }
                // Sep trims spaces; tabs and other white space go too, so a line of tabs is blank like a line of spaces.
                fields[i] = field.Trim().ToString();
            }
            if (fields is [var only] && only.Length == 0)
            {
                continue;
            }
            yield return (line, fields);
        }
    }
}
