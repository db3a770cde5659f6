using System.Runtime.CompilerServices;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Kernels;

/// <summary>Max or average pooling over a batch, split across the kernel threads by fixed ranges of samples.</summary>
/// <remarks>Every sample is pooled on its own, so the split cannot change a result.</remarks>
internal sealed unsafe class PoolingBatch : IParallelJob
{
    [ThreadStatic] private static PoolingBatch? t_job;

    private WindowGeometry _g;
    private int _batch;
    private bool _max, _backward;
    private float* _x, _y, _dy, _dx;

    /// <summary>y = pool(x) for <paramref name="batch"/> samples.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(in WindowGeometry g, bool max, int batch, ReadOnlySpan<float> x, Span<float> y)
    {
        PoolingBatch job = t_job ??= new PoolingBatch();
        fixed (float* px = x, py = y)
        {
            (job._g, job._batch, job._max, job._backward) = (g, batch, max, false);
            job._x = px;
            job._y = py;
            Run(job, batch);
        }
    }

    /// <summary>∂C/∂x from ∂C/∂y (and x, for max pooling), overwriting <paramref name="dx"/>.</summary>
    public static void Backward(in WindowGeometry g, bool max, int batch, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        PoolingBatch job = t_job ??= new PoolingBatch();
        fixed (float* px = x, pdy = dy, pdx = dx)
        {
            (job._g, job._batch, job._max, job._backward) = (g, batch, max, true);
            job._x = px;
            job._dy = pdy;
            job._dx = pdx;
            Run(job, batch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(PoolingBatch job, int batch)
    {
        try
        {
            WorkerPool.Run(job, Math.Min(WorkerPool.AvailableThreads, batch));
        }
        finally
        {
            job._x = job._y = job._dy = job._dx = null;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RunPart(int part, int parts)
    {
        WindowGeometry g = _g;
        int inSize = g.Channels * g.InputPlane, outSize = g.Channels * g.OutputPlane;
        int s0 = (int)((long)_batch * part / parts), s1 = (int)((long)_batch * (part + 1) / parts);
        for (int s = s0; s < s1; s++)
        {
            var x = new ReadOnlySpan<float>(_x + (long)s * inSize, inSize);
            if (!_backward)
            {
                var y = new Span<float>(_y + (long)s * outSize, outSize);
                if (_max) ConvolutionKernels.MaxPool(g, x, y);
                else ConvolutionKernels.AvgPool(g, x, y);
                continue;
            }
            var dy = new ReadOnlySpan<float>(_dy + (long)s * outSize, outSize);
            var dx = new Span<float>(_dx + (long)s * inSize, inSize);
            if (_max) ConvolutionKernels.MaxPoolBackward(g, x, dy, dx);
            else ConvolutionKernels.AvgPoolBackward(g, dy, dx);
        }
    }
}
