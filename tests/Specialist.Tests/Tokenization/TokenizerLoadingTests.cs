using Specialist.Tokenization;

namespace Specialist.Tests.Tokenization;

public sealed class TokenizerLoadingTests
{
    private const string Sample = "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting.";

    [Fact]
    public void LoadsT5FromAModelFolder()
    {
        var folder = TestPaths.NewTempDir();
        File.Copy(TestPaths.T5SpieceModel, Path.Combine(folder, Tokenizers.SentencePieceFileName));
        var expected = Tokenizers.Load(TestPaths.T5SpieceModel).Encode(Sample).Ids;
        Assert.Equal(expected, Tokenizers.Load(folder).Encode(Sample).Ids);
        Assert.Equal(expected, Tokenizers.LoadFromModelFolder(folder).Encode(Sample).Ids);
    }

    [Fact]
    public void MissingTokenizerNamesThePath()
    {
        var folder = TestPaths.NewTempDir();
        var e = Assert.Throws<SpecialistException>(() => Tokenizers.LoadFromModelFolder(folder));
        Assert.Contains(folder, e.Message);
        foreach (var name in new[] { "spiece.model", "tokenizer.model", "tokenizer.json" }) Assert.Contains(name, e.Message);

        var missing = Path.Combine(folder, "nope.model");
        e = Assert.Throws<SpecialistException>(() => Tokenizers.Load(missing));
        Assert.Contains(missing, e.Message);
        Assert.Contains("cl100k_base", e.Message);
    }

    [Fact]
    public void AFileThatIsNotAModelIsRefused()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "spiece.model");
        File.WriteAllText(path, "this is not a protobuf message\n");
        var e = Assert.Throws<SpecialistException>(() => Tokenizers.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void FeaturesWeDoNotReproduceAreRefused()
    {
        // A later trainer_spec merges into the first (protobuf semantics): this one turns on byte_fallback (field 35).
        var path = WriteT5WithTrainerSpec(stream => ProtoWire.WriteVarintField(stream, 35, 1));
        var e = Assert.Throws<SpecialistException>(() => Tokenizers.Load(path));
        Assert.Contains("byte_fallback", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void T5IsMissingBosAndAModelWithOneEncodesTheSame()
    {
        var t5 = SentencePieceModelFile.Read(TestPaths.T5SpieceModel);
        Assert.Equal(-1, t5.BosId);
        Assert.NotSame(t5.Bytes, t5.BytesForLibrary());

        // The same model with bos_id = 0 goes to the library unpatched and must give the same ids.
        var path = WriteT5WithTrainerSpec(stream =>
        {
            ProtoWire.WriteVarintField(stream, 41, 0);
            ProtoWire.WriteBytesField(stream, 46, "<pad>"u8);
        });
        var withBos = SentencePieceModelFile.Read(path);
        Assert.Equal(0, withBos.BosId);
        Assert.Same(withBos.Bytes, withBos.BytesForLibrary());
        Assert.Equal(Tokenizers.Load(TestPaths.T5SpieceModel).Encode(Sample).Ids, Tokenizers.Load(path).Encode(Sample).Ids);
    }

    private static string WriteT5WithTrainerSpec(Action<Stream> writeFields)
    {
        var spec = new MemoryStream();
        writeFields(spec);
        var model = new MemoryStream();
        model.Write(File.ReadAllBytes(TestPaths.T5SpieceModel));
        ProtoWire.WriteBytesField(model, 2, spec.ToArray());
        var path = Path.Combine(TestPaths.NewTempDir(), "spiece.model");
        File.WriteAllBytes(path, model.ToArray());
        return path;
    }
}
