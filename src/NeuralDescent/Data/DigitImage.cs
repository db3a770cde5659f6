namespace NeuralDescent.Data;

/// <summary>
/// Turns a photo or drawing of one digit into MNIST's 28×28 format, the way MNIST's own digits were made, so that a
/// network trained on MNIST sees what it was trained on.
/// </summary>
/// <remarks>
/// MNIST's digits were size-normalized to fit a 20×20 box keeping their aspect ratio (anti-aliased), then centred in
/// 28×28 by their centre of mass. A digit drawn anywhere on a large canvas, dark on light, looks nothing like that
/// after a plain resize: it ends up small, off-centre and inverted, and a network calls most such images the same
/// class. <see cref="Prepare"/> repeats MNIST's steps:
/// <list type="number">
/// <item>Polarity: the background level is the median of the border pixels; when it is above ½ the image is inverted,
/// so ink is bright on dark either way.</item>
/// <item>Background removal: v ← max(0, v − background) / (max − background), so the ink spans [0, 1].</item>
/// <item>Crop to the ink: the bounding box of pixels above 0.1 (after step 2).</item>
/// <item>Scale the crop so its longer side is 20 pixels, keeping the aspect ratio, averaging over each target pixel's
/// footprint (area resampling, which is also exact for enlargement of small drawings).</item>
/// <item>Place it in 28×28 so that its centre of mass (intensity-weighted, in pixel indices) falls on pixel (14, 14),
/// shifted by whole pixels; ink shifted past the edge is dropped. Re-preparing MNIST's own test digits gives them back
/// unchanged (a test checks).</item>
/// </list>
/// </remarks>
public static class DigitImage
{
    /// <summary>The side of the box a digit is scaled into, as in MNIST.</summary>
    public const int BoxSide = 20;

    /// <summary>Prepares a grey image (row-major, values in [0, 1], any size and polarity) as 784 MNIST-style pixels.</summary>
    /// <param name="pixels">Grey levels, <paramref name="width"/> × <paramref name="height"/>, row-major, in [0, 1].</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>784 values in [0, 1], ink bright, digit in a 20×20 box centred by its centre of mass; all zeros for an image with no ink.</returns>
    /// <exception cref="ArgumentException">The sizes do not match the pixel count, or a value is not finite.</exception>
    public static float[] Prepare(ReadOnlySpan<float> pixels, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if ((long)width * height != pixels.Length)
            throw new ArgumentException($"A {width}×{height} image has {(long)width * height} pixels, but {pixels.Length} were given.", nameof(pixels));
        for (int i = 0; i < pixels.Length; i++)
        {
            if (!float.IsFinite(pixels[i])) throw new ArgumentException($"Pixel {i} (x {i % width}, y {i / width}) is {pixels[i]}; grey levels must be finite.", nameof(pixels));
        }

        // 1–2. Polarity from the border's median, then background removed and ink scaled to [0, 1].
        float background = BorderMedian(pixels, width, height);
        bool invert = background > 0.5f;
        if (invert) background = 1f - background;
        var ink = new float[pixels.Length];
        float max = 0f;
        for (int i = 0; i < ink.Length; i++)
        {
            float v = invert ? 1f - pixels[i] : pixels[i];
            ink[i] = MathF.Max(0f, v - background);
            max = MathF.Max(max, ink[i]);
        }
        var result = new float[28 * 28];
        if (max <= 0f) return result;
        for (int i = 0; i < ink.Length; i++) ink[i] /= max;

        // 3. The ink's bounding box.
        int left = width, right = -1, top = height, bottom = -1;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                if (ink[y * width + x] <= 0.1f) continue;
                left = Math.Min(left, x);
                right = Math.Max(right, x);
                top = Math.Min(top, y);
                bottom = Math.Max(bottom, y);
            }
        }
        if (right < 0) return result;
        int cropWidth = right - left + 1, cropHeight = bottom - top + 1;

        // 4. Longer side to 20 pixels, aspect ratio kept, by area resampling.
        double scale = (double)BoxSide / Math.Max(cropWidth, cropHeight);
        int boxWidth = Math.Max(1, (int)Math.Round(cropWidth * scale)), boxHeight = Math.Max(1, (int)Math.Round(cropHeight * scale));
        float[] box = Resample(ink, width, left, top, cropWidth, cropHeight, boxWidth, boxHeight);

        // 5. Centre of mass (in pixel indices) onto pixel (14, 14), in whole pixels, as MNIST did.
        double mass = 0, cx = 0, cy = 0;
        for (int y = 0; y < boxHeight; y++)
        {
            for (int x = 0; x < boxWidth; x++)
            {
                double v = box[y * boxWidth + x];
                mass += v;
                cx += v * x;
                cy += v * y;
            }
        }
        if (mass <= 0) return result;
        int offsetX = (int)Math.Round(14 - cx / mass), offsetY = (int)Math.Round(14 - cy / mass);
        for (int y = 0; y < boxHeight; y++)
        {
            int ty = y + offsetY;
            if ((uint)ty >= 28u) continue;
            for (int x = 0; x < boxWidth; x++)
            {
                int tx = x + offsetX;
                if ((uint)tx < 28u) result[ty * 28 + tx] = MathF.Min(1f, box[y * boxWidth + x]);
            }
        }
        return result;
    }

    /// <summary>The median of the outermost rows and columns: the background level of a picture of one object.</summary>
    private static float BorderMedian(ReadOnlySpan<float> pixels, int width, int height)
    {
        var border = new List<float>(2 * (width + height));
        for (int x = 0; x < width; x++)
        {
            border.Add(pixels[x]);
            if (height > 1) border.Add(pixels[(height - 1) * width + x]);
        }
        for (int y = 1; y < height - 1; y++)
        {
            border.Add(pixels[y * width]);
            if (width > 1) border.Add(pixels[y * width + width - 1]);
        }
        border.Sort();
        return border[border.Count / 2];
    }

    /// <summary>
    /// Area resampling of the crop [left, left + w) × [top, top + h) of a row-major image of <paramref name="stride"/>
    /// columns to <paramref name="outWidth"/> × <paramref name="outHeight"/>: each target pixel is the mean of the source
    /// over its footprint, partial source pixels weighted by the part covered.
    /// </summary>
    private static float[] Resample(float[] source, int stride, int left, int top, int w, int h, int outWidth, int outHeight)
    {
        var result = new float[outWidth * outHeight];
        double sx = (double)w / outWidth, sy = (double)h / outHeight;
        for (int y = 0; y < outHeight; y++)
        {
            double y0 = y * sy, y1 = (y + 1) * sy;
            for (int x = 0; x < outWidth; x++)
            {
                double x0 = x * sx, x1 = (x + 1) * sx, sum = 0;
                for (int yy = (int)y0; yy < Math.Min(h, (int)Math.Ceiling(y1)); yy++)
                {
                    double wy = Math.Min(yy + 1, y1) - Math.Max(yy, y0);
                    if (wy <= 0) continue;
                    for (int xx = (int)x0; xx < Math.Min(w, (int)Math.Ceiling(x1)); xx++)
                    {
                        double wx = Math.Min(xx + 1, x1) - Math.Max(xx, x0);
                        if (wx > 0) sum += wx * wy * source[(top + yy) * stride + left + xx];
                    }
                }
                result[y * outWidth + x] = (float)(sum / (sx * sy));
            }
        }
        return result;
    }
}
