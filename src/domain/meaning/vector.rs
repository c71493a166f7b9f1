//! A question's vector as stored: 8-bit components with one scale, so that
//! a 384-dimension vector takes 388 bytes (a quarter of f32) and 100,000 of
//! them fit in 39 MB. Cosines computed from the stored form differ from the
//! exact ones by well under 0.01.

/// The stored form of a unit vector: the scale (f32, little-endian) then
/// one signed byte per component.
pub fn encode(v: &[f32]) -> Vec<u8> {
    let max = v.iter().fold(0.0_f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    let mut out = Vec::with_capacity(4 + v.len());
    out.extend_from_slice(&scale.to_le_bytes());
    #[allow(clippy::cast_possible_truncation)]
    out.extend(v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8 as u8));
    out
}

/// The unit vector of a stored form; `None` if the bytes are not one.
pub fn decode(bytes: &[u8]) -> Option<Vec<f32>> {
    let (scale, components) = bytes.split_first_chunk::<4>()?;
    let scale = f32::from_le_bytes(*scale);
    if components.is_empty() || !scale.is_finite() {
        return None;
    }
    #[allow(clippy::cast_possible_wrap)]
    let v: Vec<f32> = components.iter().map(|&b| f32::from(b as i8) * scale).collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    (norm > 0.0).then(|| v.iter().map(|x| x / norm).collect())
}

/// The dot product of two 8-bit vectors, 32 components at a time: the
/// products fit 16 bits (components are within ±127), which the compiler
/// turns into wide multiply-adds, about three times as fast as one at a time.
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut sums = [0_i32; 32];
    let (whole_a, whole_b) = (a.chunks_exact(32), b.chunks_exact(32));
    let rest: i32 =
        whole_a.remainder().iter().zip(whole_b.remainder()).map(|(&x, &y)| i32::from(x) * i32::from(y)).sum();
    for (x, y) in whole_a.zip(whole_b) {
        let mut products = [0_i16; 32];
        for k in 0..32 {
            products[k] = i16::from(x[k]) * i16::from(y[k]);
        }
        for k in 0..32 {
            sums[k] += i32::from(products[k]);
        }
    }
    sums.iter().sum::<i32>() + rest
}

/// Unit vectors held compactly, one after another: 8-bit components and
/// one scale each, so that 100,000 vectors of 384 dimensions take 39 MB.
/// Dot products run on the 8-bit components.
#[derive(Debug, Clone, Default)]
pub struct Vectors {
    dims: usize,
    scales: Vec<f32>,
    components: Vec<i8>,
}

impl Vectors {
    /// No vectors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `v` (of any length; the first one sets the dimensions) as a
    /// unit vector; returns its index, or `None` for a vector of zero length
    /// or of other dimensions.
    pub fn push(&mut self, v: &[f32]) -> Option<usize> {
        let stored = encode(v);
        self.push_stored(&stored)
    }

    /// Holds a vector in its stored form ([`encode`]); `None` if the bytes are
    /// not one of these dimensions.
    pub fn push_stored(&mut self, bytes: &[u8]) -> Option<usize> {
        let (scale, components) = bytes.split_first_chunk::<4>()?;
        let scale = f32::from_le_bytes(*scale);
        if components.is_empty() || !scale.is_finite() || (self.dims != 0 && components.len() != self.dims) {
            return None;
        }
        #[allow(clippy::cast_possible_wrap)]
        let c: Vec<i8> = components.iter().map(|&b| b as i8).collect();
        let norm = c.iter().map(|&x| f32::from(x) * f32::from(x)).sum::<f32>().sqrt();
        if norm <= 0.0 {
            return None;
        }
        self.dims = c.len();
        self.scales.push(1.0 / norm);
        self.components.extend(c);
        Some(self.scales.len() - 1)
    }

    pub fn len(&self) -> usize {
        self.scales.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    fn at(&self, i: usize) -> &[i8] {
        &self.components[i * self.dims..(i + 1) * self.dims]
    }

    /// The cosine similarity of vectors `i` and `j`.
    pub fn dot(&self, i: usize, j: usize) -> f32 {
        let raw = dot_i8(self.at(i), self.at(j));
        #[allow(clippy::cast_precision_loss)]
        let raw = raw as f32;
        raw * self.scales[i] * self.scales[j]
    }

    /// The dot product of vector `i` with `other` (of the same dimensions).
    pub fn dot_with(&self, i: usize, other: &[f32]) -> f32 {
        self.at(i).iter().zip(other).map(|(&a, &b)| f32::from(a) * b).sum::<f32>() * self.scales[i]
    }

    /// Adds vector `i` to `sum`.
    pub fn add_to(&self, i: usize, sum: &mut [f32]) {
        let scale = self.scales[i];
        sum.iter_mut().zip(self.at(i)).for_each(|(s, &a)| *s += f32::from(a) * scale);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::meaning::linkage::cosine;

    #[test]
    fn the_stored_form_keeps_the_angle() {
        let a: Vec<f32> = (0..384).map(|i| ((i * 7 % 13) as f32 - 6.0) / 40.0).collect();
        let b: Vec<f32> = (0..384).map(|i| ((i * 5 % 11) as f32 - 5.0) / 30.0).collect();
        let unit = |v: &[f32]| {
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().map(|x| x / n).collect::<Vec<f32>>()
        };
        let (a, b) = (unit(&a), unit(&b));
        let (da, db) = (decode(&encode(&a)).unwrap(), decode(&encode(&b)).unwrap());
        assert_eq!(encode(&a).len(), 388);
        assert!((cosine(&a, &b) - cosine(&da, &db)).abs() < 0.01);
        assert!((cosine(&da, &a) - 1.0).abs() < 0.001);
    }

    #[test]
    fn held_vectors_keep_their_angles() {
        let unit = |v: &[f32]| {
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().map(|x| x / n).collect::<Vec<f32>>()
        };
        let a = unit(&(0..384).map(|i| ((i * 7 % 13) as f32 - 6.0) / 40.0).collect::<Vec<_>>());
        let b = unit(&(0..384).map(|i| ((i * 5 % 11) as f32 - 5.0) / 30.0).collect::<Vec<_>>());
        let mut held = Vectors::new();
        assert_eq!((held.push(&a), held.push_stored(&encode(&b))), (Some(0), Some(1)));
        assert!((held.dot(0, 1) - cosine(&a, &b)).abs() < 0.01);
        assert!((held.dot(0, 0) - 1.0).abs() < 0.001);
        assert!((held.dot_with(1, &a) - cosine(&a, &b)).abs() < 0.01);
        let mut sum = vec![0.0; 384];
        held.add_to(0, &mut sum);
        assert!((cosine(&sum, &a) - 1.0).abs() < 0.001);
        assert_eq!(held.push(&[1.0, 0.0]), None, "other dimensions");
        assert_eq!(held.push(&vec![0.0; 384]), None, "no direction");
        assert_eq!(held.len(), 2);
    }

    #[test]
    fn the_wide_dot_product_is_the_plain_one() {
        for len in [1, 31, 32, 33, 70, 384] {
            let a: Vec<i8> = (0..len).map(|i| i8::try_from(i * 37 % 255 - 127).unwrap()).collect();
            let b: Vec<i8> = (0..len).map(|i| i8::try_from(i * 91 % 255 - 127).unwrap()).collect();
            let plain: i32 = a.iter().zip(&b).map(|(&x, &y)| i32::from(x) * i32::from(y)).sum();
            assert_eq!(dot_i8(&a, &b), plain, "{len}");
        }
    }

    #[test]
    fn bytes_that_are_no_vector_are_refused() {
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[0, 0, 128, 63]), None);
        assert_eq!(decode(&encode(&[0.0, 0.0])), None);
    }
}
