import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The console is plain static files: the local stack serves dist/ at "/", and the infrastructure puts the same
// files in S3 behind CloudFront. It talks only to the API, on the same origin.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800, minify: process.env.CONSOLE_MINIFY !== "0" },
  server: { proxy: { "/v1": "http://127.0.0.1:8000", "/local": "http://127.0.0.1:8000" } },
});
