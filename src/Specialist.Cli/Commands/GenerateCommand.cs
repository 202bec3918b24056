namespace Specialist.Cli.Commands;

/// <summary><c>specialist generate</c>.</summary>
internal static class GenerateCommand
{
    public static int Run(string[] args) => throw new UsageException("'generate' is being written");
}
