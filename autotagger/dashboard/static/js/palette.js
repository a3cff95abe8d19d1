// Colours with at least 4.5:1 contrast against white, so labels drawn in them stay readable.
export const PALETTE = ["#1f5fbf", "#b3261e", "#1e7d34", "#8a4baf", "#a05a00", "#00707a", "#c2185b", "#4a5a6a", "#5d6b00", "#6d4c41"];

export function colour(index) {
  return PALETTE[index % PALETTE.length];
}
