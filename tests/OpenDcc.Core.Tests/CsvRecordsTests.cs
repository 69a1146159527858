using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace OpenDcc.Core.Tests;

public class CsvRecordsTests
{
    [Fact]
    public void Quoted_fields_keep_their_commas_and_quotes_blank_lines_are_skipped_and_each_record_names_its_line()
    {
        var records = CsvRecords.Read(new StringReader("device_id,manufacturer\n\n 00-11 , \"Acme, Inc\" \n02,\"say \"\"hi\"\"\"\n\t \t\n04,x\t\n")).ToList();

        Assert.Equal(
            ["1: device_id|manufacturer", "3: 00-11|Acme, Inc", "4: 02|say \"hi\"", "6: 04|x"],
            records.Select(r => $"{r.Line}: {string.Join('|', r.Fields)}"));
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("device_id,type\n00-11,ESME\n", 3)]
    public void A_record_over_16_MiB_a_binary_file_say_refuses_the_file_naming_its_line(string before, int line)
    {
        // /dev/zero, in effect: 17 MiB of NULs and no line break.
        var refused = Assert.Throws<FormatException>(() => CsvRecords.Read(new StringReader(before + new string('\0', 17 * 1024 * 1024))).ToList());

        Assert.Equal($"line {line}: a record longer than 16 MiB, which no CSV file OpenDcc imports holds (is this the file meant?)", refused.Message);
    }

    [Fact]
    public void A_quote_left_open_even_on_the_last_line_or_a_quoted_line_break_refuses_the_file_naming_the_line_where_it_opened()
    {
        var open = Assert.Throws<FormatException>(() => CsvRecords.Read(new StringReader("a,b\n1,\"open\n2,3\n4,5\n")).ToList());
        Assert.Equal("line 2: a double quote is left open (it runs to the end of the file)", open.Message);
        // On the last line, with or without a line break after it: the line break is not a field's, the quote is still open.
        Assert.Equal("line 2: a double quote is left open (it runs to the end of the file)", Assert.Throws<FormatException>(() => CsvRecords.Read(new StringReader("a,b\n\"Eps,E1\n")).ToList()).Message);
        Assert.Equal("line 2: a double quote is left open (it runs to the end of the file)", Assert.Throws<FormatException>(() => CsvRecords.Read(new StringReader("a,b\n\"Eps,E1")).ToList()).Message);
        var closed = Assert.Throws<FormatException>(() => CsvRecords.Read(new StringReader("a,b\n1,\"two\nlines\"\n")).ToList());
        Assert.Equal("line 2: a quoted field runs on to the next line (a double quote left open?)", closed.Message);
    }

    [Property(MaxTest = 300)]
    public Property Fields_written_with_rfc_4180_quoting_read_back_as_they_were_less_outer_white_space(NonEmptyArray<NonEmptyArray<string>> rows)
    {
        // Fields without line breaks: nothing imported holds one (those are refused, above).
        var written = rows.Get.Select(r => r.Get.Select(f => (f ?? "").Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal)).ToArray()).ToArray();
        var csv = string.Join("\r\n", written.Select(r => string.Join(',', r.Select(f => "\"" + f.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""))));

        var read = CsvRecords.Read(new StringReader(csv)).Select(r => r.Fields).ToArray();

        var expected = written.Select(r => r.Select(f => f.Trim()).ToArray()).Where(r => r is not [""]).ToArray();
        return (read.Length == expected.Length && read.Zip(expected).All(p => p.First.SequenceEqual(p.Second))).ToProperty();
    }
}
