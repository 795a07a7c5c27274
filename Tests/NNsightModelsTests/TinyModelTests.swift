import Foundation
import NNsightNN
import Testing
import NNsightTorch
@testable import NNsightModels

/// The tiny GPT-2, Llama, Llama-3 (rope scaling, tied head) and Qwen2 (q/k/v biases) checkpoints
/// against transformers' own outputs (scripts/fixtures/gen_models.py).
@Suite struct TinyModelTests {
    static let tolerance = 1e-4

    func load(_ name: String, dtype: DType = .float32) throws -> LoadedModel {
        try Torch.setNumThreads(1)
        return try NNsightModels.load(path: Fixtures.path(name), dtype: dtype)
    }

    func forward(_ model: any CausalLanguageModel, _ ids: Tensor, configure: (inout ForwardContext) -> Void = { _ in }) throws -> Tensor {
        var context = ForwardContext()
        configure(&context)
        return try Torch.noGrad { try model(ids, context) }
    }

    @Test(arguments: Fixtures.tinyModels)
    func configDecoding(name: String) throws {
        let expected = Fixtures.model(name)
        let loaded = try load(name)
        #expect(loaded.model.typeName == expected.model_class)
        #expect(loaded.architecture == expected.config["model_type"]?.string)
        #expect(loaded.eosTokenIds == [expected.config["eos_token_id"]?.int].compactMap { $0 })
        #expect(loaded.model.vocabularySize == expected.config["vocab_size"]?.int)
        let parameters = loaded.model.namedParameters().reduce(0) { $0 + $1.parameter.value.count }
        #expect(parameters == expected.parameter_count)
        // Python's state_dict also lists a tied head under its own name.
        let keys = Set(loaded.model.stateDict().map(\.name))
        #expect(keys.union(["lm_head.weight"]) == Set(expected.state_dict_keys).union(["lm_head.weight"]))

        let config = expected.config
        if let gpt2 = loaded.model as? GPT2LMHeadModel {
            #expect(gpt2.config.nEmbd == config["n_embd"]?.int)
            #expect(gpt2.config.nLayer == config["n_layer"]?.int)
            #expect(gpt2.config.nHead == config["n_head"]?.int)
            #expect(gpt2.config.nPositions == config["n_positions"]?.int)
            #expect(gpt2.config.layerNormEpsilon == config["layer_norm_epsilon"]?.double)
            #expect(gpt2.config.activationFunction == config["activation_function"]?.string)
            #expect(gpt2.config.tieWordEmbeddings == config["tie_word_embeddings"]?.bool)
            #expect(gpt2.lm_head.weight === gpt2.transformer.wte.weight)
        } else if let neox = loaded.model as? GPTNeoXForCausalLM {
            #expect(neox.config.hiddenSize == config["hidden_size"]?.int)
            #expect(neox.config.numHiddenLayers == config["num_hidden_layers"]?.int)
            #expect(neox.config.numAttentionHeads == config["num_attention_heads"]?.int)
            #expect(neox.config.layerNormEps == config["layer_norm_eps"]?.double)
            #expect(neox.config.useParallelResidual == config["use_parallel_residual"]?.bool)
            let rope = try #require(config["rope_parameters"])
            #expect(neox.config.ropeTheta == rope["rope_theta"]?.double)
            #expect(neox.config.partialRotaryFactor == rope["partial_rotary_factor"]?.double)
            #expect(neox.config.rotaryDimensions == 4)
            #expect(!(neox.lm_head.weight === neox.gpt_neox.embed_in.weight))
        } else if let gptj = loaded.model as? GPTJForCausalLM {
            #expect(gptj.config.nEmbd == config["n_embd"]?.int)
            #expect(gptj.config.nLayer == config["n_layer"]?.int)
            #expect(gptj.config.nHead == config["n_head"]?.int)
            #expect(gptj.config.rotaryDim == config["rotary_dim"]?.int)
            #expect(gptj.config.activationFunction == config["activation_function"]?.string)
            #expect(gptj.lm_head.bias != nil)
            #expect(gptj.transformer.h[0].attn.q_proj.bias == nil)
            #expect(!(gptj.lm_head.weight === gptj.transformer.wte.weight))
        } else if let opt = loaded.model as? OPTForCausalLM {
            #expect(opt.config.hiddenSize == config["hidden_size"]?.int)
            #expect(opt.config.ffnDim == config["ffn_dim"]?.int)
            #expect(opt.config.doLayerNormBefore == config["do_layer_norm_before"]?.bool)
            #expect(opt.config.wordEmbedProjDim == config["word_embed_proj_dim"]?.int)
            #expect(opt.config.enableBias == config["enable_bias"]?.bool)
            #expect((opt.model.decoder.project_in != nil) == (opt.config.wordEmbedProjDim != opt.config.hiddenSize))
            #expect((opt.model.decoder.final_layer_norm != nil) == opt.config.doLayerNormBefore)
            #expect(opt.model.decoder.embed_positions.weight.value.shape == [130, opt.config.hiddenSize])
            #expect(opt.lm_head.weight === opt.model.decoder.embed_tokens.weight)
        } else if let olmo = loaded.model as? Olmo2ForCausalLM {
            #expect(olmo.config.hiddenSize == config["hidden_size"]?.int)
            #expect(olmo.config.numKeyValueHeads == config["num_key_value_heads"]?.int)
            #expect(olmo.config.rmsNormEps == config["rms_norm_eps"]?.double)
            #expect(olmo.model.layers[0].self_attn.k_norm.weight.value.shape == [olmo.config.numKeyValueHeads * olmo.config.headDim])
            #expect(!(olmo.lm_head.weight === olmo.model.embed_tokens.weight))
        } else if let gemma = loaded.model as? GemmaForCausalLM {
            #expect(gemma.config.modelType == config["model_type"]?.string)
            #expect(gemma.config.headDim == config["head_dim"]?.int)
            #expect(gemma.config.numKeyValueHeads == config["num_key_value_heads"]?.int)
            #expect(gemma.config.queryPreAttnScalar == config["query_pre_attn_scalar"]?.double)
            #expect(gemma.config.attnLogitSoftcapping == config["attn_logit_softcapping"]?.double)
            #expect(gemma.config.finalLogitSoftcapping == config["final_logit_softcapping"]?.double)
            #expect(gemma.config.slidingWindow == config["sliding_window"]?.int)
            #expect(gemma.config.layerTypes.map(\.rawValue)
                    == (config["layer_types"]?.array?.compactMap(\.string) ?? Array(repeating: "full_attention", count: 2)))
            #expect(gemma.lm_head.weight === gemma.model.embed_tokens.weight)
        } else if let phi3 = loaded.model as? Phi3ForCausalLM {
            #expect(phi3.config.llama.hiddenSize == config["hidden_size"]?.int)
            #expect(phi3.config.llama.numKeyValueHeads == config["num_key_value_heads"]?.int)
            #expect(phi3.config.llama.slidingWindow == config["sliding_window"]?.int)
            #expect(phi3.config.llama.layerTypes.allSatisfy { $0 == .slidingAttention })
            let rope = try #require(config["rope_parameters"])
            #expect(phi3.config.llama.ropeTheta == rope["rope_theta"]?.double)
            #expect(phi3.config.partialRotaryFactor == rope["partial_rotary_factor"]?.double)
            #expect(phi3.config.rotaryDimensions == 12)
            #expect(phi3.model.layers[0].self_attn.qkv_proj.weight.value.shape == [128, 64])
            #expect(phi3.model.layers[0].mlp.gate_up_proj.weight.value.shape == [256, 64])
        } else if let mixtral = loaded.model as? MixtralForCausalLM {
            #expect(mixtral.config.llama.hiddenSize == config["hidden_size"]?.int)
            #expect(mixtral.config.llama.numKeyValueHeads == config["num_key_value_heads"]?.int)
            #expect(mixtral.config.numLocalExperts == 4)
            #expect(mixtral.config.numExpertsPerToken == 2)
            #expect(mixtral.model.layers[0].mlp.experts.gate_up_proj.value.shape == [4, 256, 64])
            #expect(mixtral.model.layers[0].mlp.experts.down_proj.value.shape == [4, 64, 128])
            #expect(mixtral.model.layers[0].mlp.gate.weight.value.shape == [4, 64])
        } else if let moe = loaded.model as? Qwen3MoeForCausalLM {
            #expect(moe.config.llama.hiddenSize == config["hidden_size"]?.int)
            #expect(moe.config.llama.headDim == config["head_dim"]?.int)
            #expect(moe.config.llama.intermediateSize == config["intermediate_size"]?.int)
            #expect(moe.config.numExperts == config["num_local_experts"]?.int)
            #expect(moe.config.numExpertsPerToken == config["num_experts_per_tok"]?.int)
            #expect(moe.config.moeIntermediateSize == config["moe_intermediate_size"]?.int)
            #expect(moe.config.normTopkProb == config["norm_topk_prob"]?.bool)
            #expect(moe.config.decoderSparseStep == config["decoder_sparse_step"]?.int)
            #expect(moe.config.mlpOnlyLayers == config["mlp_only_layers"]?.array?.compactMap(\.int))
            let sparse = try #require(moe.model.layers[0].mlp as? SparseMoeBlock)
            #expect(sparse.experts.gate_up_proj.value.shape == [4, 64, 64])
            #expect(sparse.experts.down_proj.value.shape == [4, 64, 32])
            #expect(sparse.gate.weight.value.shape == [4, 64])
            #expect(moe.model.layers[1].mlp is LlamaMLP)
            #expect(moe.model.layers[0].self_attn.q_norm?.weight.value.shape == [24])
            #expect(moe.lm_head.weight === moe.model.embed_tokens.weight)
        } else {
            let llama = try #require(loaded.model as? LlamaForCausalLM)
            #expect(llama.config.modelType == config["model_type"]?.string)
            #expect(llama.config.hiddenSize == config["hidden_size"]?.int)
            #expect(llama.config.intermediateSize == config["intermediate_size"]?.int)
            #expect(llama.config.numHiddenLayers == config["num_hidden_layers"]?.int)
            #expect(llama.config.numAttentionHeads == config["num_attention_heads"]?.int)
            #expect(llama.config.numKeyValueHeads == config["num_key_value_heads"]?.int)
            #expect(llama.config.maxPositionEmbeddings == config["max_position_embeddings"]?.int)
            #expect(llama.config.rmsNormEps == config["rms_norm_eps"]?.double)
            #expect(llama.config.tieWordEmbeddings == config["tie_word_embeddings"]?.bool)
            #expect((llama.lm_head.weight === llama.model.embed_tokens.weight) == llama.config.tieWordEmbeddings)
            let rope = try #require(config["rope_parameters"])
            #expect(llama.config.ropeTheta == rope["rope_theta"]?.double)
            if rope["rope_type"]?.string == "default" {
                #expect(llama.config.ropeScaling == nil)
            } else {
                let scaling = try #require(llama.config.ropeScaling)
                #expect(scaling.ropeType == rope["rope_type"]?.string)
                #expect(scaling.factor == rope["factor"]?.double)
                #expect(scaling.lowFreqFactor == rope["low_freq_factor"]?.double)
                #expect(scaling.highFreqFactor == rope["high_freq_factor"]?.double)
                #expect(scaling.originalMaxPositionEmbeddings == rope["original_max_position_embeddings"]?.int)
            }
            #expect(llama.config.attentionBias == (config["model_type"]?.string == "qwen2"))
            #expect((llama.model.layers[0].self_attn.q_proj.bias != nil) == llama.config.attentionBias)
        }
    }

    @Test(arguments: Fixtures.tinyModels)
    func tokenizerMatchesFixtureIds(name: String) throws {
        let tokenizer = try #require(try load(name).tokenizer)
        for single in Fixtures.model(name).single {
            #expect(tokenizer.encode(single.prompt).ids == single.input_ids, "\(single.prompt)")
        }
    }

    @Test(arguments: Fixtures.tinyModels)
    func singlePromptLogits(name: String) throws {
        let model = try load(name).model
        for single in Fixtures.model(name).single {
            let logits = try forward(model, idsTensor([single.input_ids]))
            #expect(logits.dtype == .float32)
            let difference = try maxAbsDifference(logits.squeeze(dim: 0), single.logits.tensor())
            #expect(difference <= Self.tolerance, "\(name) \"\(single.prompt)\": max |Δ| \(difference)")
        }
    }

    /// `logits_to_keep`: the last positions' logits only, the same values.
    @Test(arguments: Fixtures.tinyModels)
    func logitsToKeep(name: String) throws {
        let model = try load(name).model
        let single = Fixtures.model(name).single[0]
        let logits = try forward(model, idsTensor([single.input_ids])) { $0.logitsToKeep = 2 }
        #expect(logits.shape == [1, 2, 512])
        let expected = try single.logits.tensor().narrow(dim: 0, start: single.input_ids.count - 2, length: 2)
        #expect(try maxAbsDifference(logits.squeeze(dim: 0), expected) <= Self.tolerance)
    }

    @Test(arguments: Fixtures.tinyModels)
    func leftPaddedBatchLastLogits(name: String) throws {
        let model = try load(name).model
        let batch = Fixtures.model(name).batch
        let expected = try batch.last_logits.tensor()
        let mask = try idsTensor(batch.attention_mask)
        // Position ids computed by the model from the mask, and given explicitly as the fixture did.
        for explicit in [false, true] {
            let logits = try forward(model, idsTensor(batch.input_ids)) { context in
                context.attentionMask = mask
                if explicit { context.positionIds = try? idsTensor(batch.position_ids) }
            }
            let last = try logits.select(dim: 1, index: logits.size(1) - 1)
            let difference = try maxAbsDifference(last, expected)
            #expect(difference <= Self.tolerance, "\(name) explicit positions \(explicit): max |Δ| \(difference)")
        }
        // Each padded row's last logits are the unpadded prompt's.
        for (row, single) in Fixtures.model(name).single.enumerated() {
            let alone = try forward(model, idsTensor([single.input_ids]))
            let padded = try forward(model, idsTensor(batch.input_ids)) { $0.attentionMask = mask }
            let difference = try maxAbsDifference(alone.select(dim: 1, index: -1).squeeze(dim: 0),
                                                  padded.select(dim: 1, index: -1).select(dim: 0, index: row))
            #expect(difference <= Self.tolerance, "\(name) row \(row): max |Δ| \(difference)")
        }
    }

    @Test(arguments: Fixtures.tinyModels)
    func greedyGenerationSingle(name: String) throws {
        let model = try load(name).model
        for single in Fixtures.model(name).single {
            let output = try generate(model, inputIds: idsTensor([single.input_ids]),
                                      options: GenerationOptions(maxNewTokens: 12))
            #expect(output.shape == [1, single.input_ids.count + 12])
            #expect(try rows(output)[0].prefix(single.input_ids.count) == single.input_ids[...])
            #expect(try newTokens(output, count: 12) == [single.greedy_new_ids], "\(name) \"\(single.prompt)\"")
        }
    }

    @Test(arguments: Fixtures.tinyModels)
    func greedyGenerationBatched(name: String) throws {
        let model = try load(name).model
        let batch = Fixtures.model(name).batch
        let output = try generate(model, inputIds: idsTensor(batch.input_ids), attentionMask: idsTensor(batch.attention_mask),
                                  options: GenerationOptions(maxNewTokens: 12))
        #expect(output.shape == [batch.input_ids.count, batch.input_ids[0].count + 12])
        #expect(try newTokens(output, count: 12) == batch.greedy_new_ids)
        // And the same tokens as each prompt alone.
        #expect(batch.greedy_new_ids == Fixtures.model(name).single.map(\.greedy_new_ids))
    }

    /// Prefill with a KV cache, then one token at a time: the same logits as one full forward pass.
    @Test(arguments: Fixtures.tinyModels)
    func incrementalDecodingEqualsFullForward(name: String) throws {
        let model = try load(name).model
        let single = Fixtures.model(name).single[2]
        let ids = try idsTensor([single.input_ids])
        let full = try forward(model, ids)
        let prefill = 4
        let cache = KVCache(layers: model.layerCount)
        var pieces = [try forward(model, ids.narrow(dim: 1, start: 0, length: prefill)) { $0.cache = cache }]
        #expect(cache.length == prefill)
        for position in prefill..<single.input_ids.count {
            pieces.append(try forward(model, ids.narrow(dim: 1, start: position, length: 1)) { $0.cache = cache })
            #expect(cache.length == position + 1)
        }
        let incremental = try Tensor.cat(pieces, dim: 1)
        #expect(try maxAbsDifference(incremental, full) <= Self.tolerance)
        #expect(try maxAbsDifference(incremental.squeeze(dim: 0), single.logits.tensor()) <= Self.tolerance)
    }

    /// Incremental decoding of a left-padded batch, with the mask growing by one column per step.
    @Test(arguments: Fixtures.tinyModels)
    func incrementalDecodingWithPadding(name: String) throws {
        let model = try load(name).model
        let batch = Fixtures.model(name).batch
        let ids = try idsTensor(batch.input_ids), mask = try idsTensor(batch.attention_mask)
        let full = try forward(model, ids) { $0.attentionMask = mask }
        let cache = KVCache(layers: model.layerCount)
        let prefill = 7, length = batch.input_ids[0].count
        var pieces = [try forward(model, ids.narrow(dim: 1, start: 0, length: prefill)) {
            $0.cache = cache
            $0.attentionMask = try? mask.narrow(dim: 1, start: 0, length: prefill)
        }]
        for position in prefill..<length {
            pieces.append(try forward(model, ids.narrow(dim: 1, start: position, length: 1)) {
                $0.cache = cache
                $0.attentionMask = try? mask.narrow(dim: 1, start: 0, length: position + 1)
            })
        }
        let incremental = try Tensor.cat(pieces, dim: 1)
        // Compare the real (unpadded) positions only.
        for (row, maskRow) in batch.attention_mask.enumerated() {
            let first = maskRow.firstIndex(of: 1)!
            let real = { (t: Tensor) in try t.select(dim: 0, index: row).narrow(dim: 0, start: first, length: length - first) }
            #expect(try maxAbsDifference(real(incremental), real(full)) <= Self.tolerance, "\(name) row \(row)")
        }
    }

    @Test(arguments: Fixtures.tinyModels)
    func reducedPrecisionLoads(name: String) throws {
        let single = Fixtures.model(name).single[0]
        let expected = try single.logits.tensor()
        for dtype in [DType.bfloat16, .float16] {
            let model = try load(name, dtype: dtype).model
            #expect(model.namedParameters().allSatisfy { $0.parameter.value.dtype == dtype })
            let logits = try forward(model, idsTensor([single.input_ids]))
            #expect(logits.dtype == dtype, "compute runs in the weights' dtype")
            let difference = try maxAbsDifference(logits.squeeze(dim: 0), expected)
            // bf16 keeps 8 bits of mantissa (f16 11): a relative error of a few 2⁻⁸ of the logits' scale.
            // (tiny-gemma2, with norm factors near 2 and soft-capped logits, reaches 0.062 of its
            // scale in bf16: transformers' own bf16 forward differs from its fp32 one by the same
            // 0.306.)
            let scale = try expected.abs().max().item(Double.self)
            let tolerance = (dtype == .bfloat16 ? 0.07 : 0.01) * max(scale, 1)
            #expect(difference <= tolerance, "\(name) \(dtype): max |Δ| \(difference), scale \(scale)")
            #expect(difference > 0, "\(name) \(dtype): identical to float32, so the dtype was not used")
            // The most likely next token is unchanged, where float32's top two are further apart
            // than the error allowed (tiny-qwen3's are 0.046 apart, and transformers' own bf16
            // forward swaps them too).
            let top2 = try expected.select(dim: 0, index: -1).topk(2).values
            if try (top2.select(dim: 0, index: 0) - top2.select(dim: 0, index: 1)).item(Double.self) > tolerance {
                let top = try logits.select(dim: 1, index: -1).argmax(dim: -1).item(Int.self)
                #expect(top == (try expected.select(dim: 0, index: -1).argmax().item(Int.self)))
            }
        }
    }

    @Test func describesTreeLikeTransformers() throws {
        let reprs = try Fixtures.reprs().reprs
        for name in Fixtures.tinyModels {
            let model = try load(name).model
            #expect(model.description == reprs[name], "\(name):\n\(model.description)")
        }
    }
}
