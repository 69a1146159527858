using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace OpenDcc.Core.Tests;

public class CsvRecordsTests
{
    [Fact]
    public void Quoted_fields_keep_their_commas_quotes_and_line_breaks_and_each_record_names_the_line_it_starts_on()
    {
        var records = CsvRecords.Read(new StringReader("device_id,manufacturer\n\n 00-11 , \"Acme, Inc\" \n02,\"say \"\"hi\"\"\"\n03,\"two\nlines\"\n04,x\n")).ToList();

        Assert.Equal(
            ["1: device_id|manufacturer", "3: 00-11|Acme, Inc", "4: 02|say \"hi\"", "5: 03|two\nlines", "7: 04|x"],
            records.Select(r => $"{r.Line}: {string.Join('|', r.Fields)}"));
    }

    [Fact]
    public void A_quote_left_open_takes_the_rest_of_the_file_into_its_field_so_its_record_is_the_last()
    {
        var records = CsvRecords.Read(new StringReader("a,b\n1,\"open\n2,3\n")).ToList();

        Assert.Equal(2, records.Count);
        Assert.Equal(2, records[1].Line);
    }

    [Property(MaxTest = 300)]
    public Property Fields_written_with_rfc_4180_quoting_read_back_as_they_were_less_outer_spaces(NonEmptyArray<NonEmptyArray<string>> rows)
    {
        var written = rows.Get.Select(r => r.Get.Select(f => f ?? "").ToArray()).ToArray();
        var csv = string.Join("\r\n", written.Select(r => string.Join(',', r.Select(f => "\"" + f.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""))));

        var read = CsvRecords.Read(new StringReader(csv)).Select(r => r.Fields).ToArray();

        var expected = written.Select(r => r.Select(f => f.Trim(' ')).ToArray()).Where(r => r is not [""]).ToArray();
        return (read.Length == expected.Length && read.Zip(expected).All(p => p.First.SequenceEqual(p.Second))).ToProperty();
    }
}
