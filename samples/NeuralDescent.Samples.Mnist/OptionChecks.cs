using System.CommandLine;

namespace MnistSample;

/// <summary>Range checks for command-line options that run only on values that parsed.</summary>
internal static class OptionChecks
{
    /// <summary>
    /// Adds a check of the option's value. A value that does not parse as <typeparamref name="T"/> (<c>--epochs banana</c>,
    /// a number past the type's range) is left to the parser, which reports it as a parse error; reading it here would throw.
    /// </summary>
    public static void Require<T>(this Option<T> option, Func<T, bool> valid, Func<T, string> message)
    {
        option.Validators.Add(result =>
        {
            T? value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return;
            }
            if (value is not null && !valid(value)) result.AddError(message(value));
        });
    }
}
