using ScottPlot;
using SkiaSharp;

namespace Specialist.Reports;

/// <summary>
/// The font every report figure draws its text with: DejaVu Sans, embedded in this assembly (Fonts/LICENSE.txt).
/// ScottPlot otherwise asks the system for fonts, and where there are none (no fontconfig, nothing under
/// /usr/share/fonts) it silently draws no text at all; an embedded font draws the same text everywhere.
/// </summary>
internal static class PlotFonts
{
    /// <summary>The family name the embedded font is registered under with ScottPlot.</summary>
    public const string Name = "Specialist Embedded Sans";

    private const string ResourceName = "Specialist.Reports.DejaVuSans.ttf";

    private static readonly Lazy<SKTypeface> Embedded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lock Gate = new();
    private static bool _registered;

    /// <summary>The embedded typeface (loaded once, never disposed: ScottPlot keeps using it).</summary>
    public static SKTypeface Typeface => Embedded.Value;

    /// <summary>Makes every text of <paramref name="plot"/> (title, axis labels, ticks, legend) use the embedded font.</summary>
    public static void Apply(Plot plot)
    {
        lock (Gate)
        {
            if (!_registered)
            {
                // First in line, so the name never reaches the system resolver.
                Fonts.FontResolvers.Insert(0, new EmbeddedFontResolver());
                _registered = true;
            }
        }
        plot.Font.Set(Name);
    }

    private static SKTypeface Load()
    {
        using var stream = typeof(PlotFonts).Assembly.GetManifestResourceStream(ResourceName)
                           ?? throw new InvalidOperationException($"the embedded font {ResourceName} is missing from the assembly");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return SKTypeface.FromData(SKData.CreateCopy(bytes.ToArray()))
               ?? throw new InvalidOperationException($"the embedded font {ResourceName} could not be read");
    }

    /// <summary>Answers <see cref="Name"/> (any weight or slant) with the embedded typeface and nothing else.</summary>
    private sealed class EmbeddedFontResolver : IFontResolver
    {
        public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing width) => fontName == Name ? Typeface : null;

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) => fontName == Name ? Typeface : null;
    }
}
