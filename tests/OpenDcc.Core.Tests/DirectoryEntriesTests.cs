namespace OpenDcc.Core.Tests;

public sealed class DirectoryEntriesTests
{
    [Fact]
    public void A_directory_is_flushed_and_one_that_cannot_be_opened_is_named_with_why()
    {
        var directory = Directory.CreateTempSubdirectory("opendcc-flush-");
        try
        {
            DirectoryEntries.Flush(directory.FullName);

            var missing = Path.Combine(directory.FullName, "gone");
            var fault = Assert.Throws<IOException>(() => DirectoryEntries.Flush(missing));
            Assert.Equal($"{missing}: cannot open the directory to flush it (No such file or directory)", fault.Message);
            // A file is not a directory (O_DIRECTORY): refused, not flushed as one.
            var file = Path.Combine(directory.FullName, "a-file");
            File.WriteAllText(file, "x");
            Assert.Contains("Not a directory", Assert.Throws<IOException>(() => DirectoryEntries.Flush(file)).Message, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
