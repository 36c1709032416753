/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The page is built into the Python package, which serves it at `/` (no CDN at run time).
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../src/datavox/static",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
  },
  server: {
    // `npm run dev` against a running `datavox serve`.
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", ws: true },
      "/v1": "http://127.0.0.1:8000",
      "/healthz": "http://127.0.0.1:8000",
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
  },
});
